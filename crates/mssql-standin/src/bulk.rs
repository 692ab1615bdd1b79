//! A bulk load message (packet type 0x07, MS-TDS 2.2.6.1): COLMETADATA describing the columns
//! the client sends, ROW or NBCROW tokens, then DONE. Its rows become one Arrow batch typed as
//! the target table's declared columns.

use chrono::NaiveDate;
use datafusion::arrow::array::{
    ArrayRef, BooleanBuilder, Date32Builder, Decimal128Builder, Float64Builder, Int64Builder, RecordBatch,
    StringBuilder, TimestampMicrosecondBuilder,
};
use datafusion::arrow::datatypes::DataType;
use std::sync::Arc;

use crate::db::Table;
use crate::decode::{Cursor, TypeInfo, Value, type_info, utf16, value};

/// The rows of a bulk load message, typed as `table`'s columns; columns the client did not
/// send are NULL.
pub fn rows(body: &[u8], table: &Table) -> Result<RecordBatch, String> {
    let target = &table.columns;
    let mut c = Cursor::new(body);
    if c.u8()? != 0x81 {
        return Err("a bulk load starts with COLMETADATA".into());
    }
    let n = c.u16()? as usize;
    let mut sent: Vec<(TypeInfo, usize)> = Vec::with_capacity(n);
    for _ in 0..n {
        let _user_type = c.u32()?;
        let _flags = c.u16()?;
        let t = type_info(&mut c)?;
        let len = c.u8()? as usize;
        let name = utf16(c.take(len * 2)?);
        let at = target
            .iter()
            .position(|col| col.name.eq_ignore_ascii_case(&name))
            .ok_or_else(|| format!("Invalid column name '{name}'."))?;
        sent.push((t, at));
    }
    let mut values: Vec<Vec<Value>> = vec![Vec::new(); target.len()];
    let mut rows = 0usize;
    // tiberius ends the rows with DONE; FreeTDS's bcp just ends the message.
    while !c.done() {
        match c.u8()? {
            0xD1 => {
                for (t, at) in &sent {
                    values[*at].push(value(&mut c, *t)?);
                }
            }
            0xD2 => {
                let bitmap = c.take(sent.len().div_ceil(8))?.to_vec();
                for (i, (t, at)) in sent.iter().enumerate() {
                    let null = bitmap[i / 8] & (1 << (i % 8)) != 0;
                    values[*at].push(if null { Value::Null } else { value(&mut c, *t)? });
                }
            }
            0xFD => break,
            other => return Err(format!("unexpected token 0x{other:02X} in a bulk load")),
        }
        rows += 1;
    }
    for v in &mut values {
        v.resize(rows, Value::Null);
    }
    let arrays = target
        .iter()
        .zip(values)
        .map(|(col, vals)| array(&col.sql_type.arrow(), vals).map_err(|e| format!("column {}: {e}", col.name)))
        .collect::<Result<Vec<_>, _>>()?;
    RecordBatch::try_new(table.arrow_schema(), arrays).map_err(|e| e.to_string())
}

fn mismatch(v: &Value, t: &DataType) -> String {
    format!("{v:?} does not fit a {t} column")
}

/// Values as an array of type `t`, as SQL Server converts them on insert.
fn array(t: &DataType, vals: Vec<Value>) -> Result<ArrayRef, String> {
    Ok(match t {
        DataType::Int64 => {
            let mut b = Int64Builder::with_capacity(vals.len());
            for v in vals {
                match v {
                    Value::Null => b.append_null(),
                    Value::Int(i) => b.append_value(i),
                    Value::Bool(x) => b.append_value(i64::from(x)),
                    v => return Err(mismatch(&v, t)),
                }
            }
            Arc::new(b.finish())
        }
        DataType::Float64 => {
            let mut b = Float64Builder::with_capacity(vals.len());
            for v in vals {
                match v {
                    Value::Null => b.append_null(),
                    Value::Float(x) => b.append_value(x),
                    Value::Int(i) => b.append_value(i as f64),
                    v => return Err(mismatch(&v, t)),
                }
            }
            Arc::new(b.finish())
        }
        DataType::Boolean => {
            let mut b = BooleanBuilder::with_capacity(vals.len());
            for v in vals {
                match v {
                    Value::Null => b.append_null(),
                    Value::Bool(x) => b.append_value(x),
                    Value::Int(i) => b.append_value(i != 0),
                    v => return Err(mismatch(&v, t)),
                }
            }
            Arc::new(b.finish())
        }
        DataType::Utf8 => {
            let mut b = StringBuilder::new();
            for v in vals {
                match v {
                    Value::Null => b.append_null(),
                    Value::Text(s) => b.append_value(s),
                    v => return Err(mismatch(&v, t)),
                }
            }
            Arc::new(b.finish())
        }
        DataType::Date32 => {
            let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch");
            let mut b = Date32Builder::with_capacity(vals.len());
            for v in vals {
                match v {
                    Value::Null => b.append_null(),
                    Value::Date(d) => b.append_value((d - epoch).num_days() as i32),
                    Value::DateTime(d) => b.append_value((d.date() - epoch).num_days() as i32),
                    v => return Err(mismatch(&v, t)),
                }
            }
            Arc::new(b.finish())
        }
        DataType::Timestamp(_, _) => {
            let mut b = TimestampMicrosecondBuilder::with_capacity(vals.len());
            for v in vals {
                match v {
                    Value::Null => b.append_null(),
                    Value::DateTime(d) => b.append_value(d.and_utc().timestamp_micros()),
                    Value::Date(d) => b.append_value(d.and_time(chrono::NaiveTime::MIN).and_utc().timestamp_micros()),
                    v => return Err(mismatch(&v, t)),
                }
            }
            Arc::new(b.finish())
        }
        DataType::Decimal128(p, s) => {
            let mut b = Decimal128Builder::with_capacity(vals.len());
            for v in vals {
                match v {
                    Value::Null => b.append_null(),
                    Value::Decimal(m, scale) => {
                        let diff = *s as i32 - scale as i32;
                        let m = if diff >= 0 { m * 10i128.pow(diff as u32) } else { m / 10i128.pow((-diff) as u32) };
                        b.append_value(m)
                    }
                    Value::Int(i) => b.append_value(i as i128 * 10i128.pow(*s as u32)),
                    v => return Err(mismatch(&v, t)),
                }
            }
            Arc::new(b.finish().with_precision_and_scale(*p, *s).map_err(|e| e.to_string())?)
        }
        other => return Err(format!("{other} columns cannot be bulk loaded into the stand-in")),
    })
}
