//! Values as clients send them: a TYPE_INFO, then a value in that type's encoding (MS-TDS
//! 2.2.5.4-2.2.5.6). RPC parameters carry both for each value; a bulk load carries the TYPE_INFO
//! once per column in its COLMETADATA and then only values in each ROW.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

pub struct Cursor<'a> {
    pub b: &'a [u8],
    pub at: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(b: &'a [u8]) -> Self {
        Self { b, at: 0 }
    }
    pub fn done(&self) -> bool {
        self.at >= self.b.len()
    }
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let s = self.b.get(self.at..self.at + n).ok_or("the request is truncated")?;
        self.at += n;
        Ok(s)
    }
    pub fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }
    pub fn u16(&mut self) -> Result<u16, String> {
        let s = self.take(2)?;
        Ok(u16::from_le_bytes([s[0], s[1]]))
    }
    pub fn u32(&mut self) -> Result<u32, String> {
        let s = self.take(4)?;
        Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }
    pub fn u64(&mut self) -> Result<u64, String> {
        let s = self.take(8)?;
        Ok(u64::from_le_bytes(s.try_into().expect("8 bytes")))
    }
}

pub fn utf16(b: &[u8]) -> String {
    String::from_utf16_lossy(
        &b.chunks(2).filter(|c| c.len() == 2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect::<Vec<_>>(),
    )
}

/// A TYPE_INFO as far as the stand-in needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeInfo {
    /// INTN, BITN, FLTN and the like: a one-byte length, then that many bytes.
    ByteLen {
        ty: u8,
        max: u8,
    },
    /// The fixed-length types (INT4 0x38, INT8 0x7F, FLT8 0x3E, BIT 0x32, ...): no length.
    Fixed {
        ty: u8,
        len: u8,
    },
    /// NVARCHAR, VARCHAR, NCHAR, CHAR: a two-byte length, or PLP chunks when `max` is 0xFFFF.
    Chars {
        ty: u8,
        max: u16,
    },
    Date,
    DateTime2 {
        scale: u8,
    },
    Decimal {
        scale: u8,
    },
}

/// A decoded value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Float(f64),
    Bool(bool),
    Text(String),
    Date(NaiveDate),
    DateTime(NaiveDateTime),
    /// Mantissa and scale.
    Decimal(i128, u8),
}

fn date_from(days: u32) -> Result<NaiveDate, String> {
    NaiveDate::from_num_days_from_ce_opt(days as i32 + 1).ok_or_else(|| "bad date".to_string())
}

pub fn type_info(c: &mut Cursor) -> Result<TypeInfo, String> {
    let ty = c.u8()?;
    Ok(match ty {
        0x26 | 0x68 | 0x6D | 0x6E | 0x6F => TypeInfo::ByteLen { ty, max: c.u8()? },
        0x30 => TypeInfo::Fixed { ty, len: 1 },
        0x32 => TypeInfo::Fixed { ty, len: 1 },
        0x34 => TypeInfo::Fixed { ty, len: 2 },
        0x38 | 0x3B => TypeInfo::Fixed { ty, len: 4 },
        0x7F | 0x3E | 0x3D => TypeInfo::Fixed { ty, len: 8 },
        0xE7 | 0xA7 | 0xEF | 0xAF => {
            let max = c.u16()?;
            c.take(5)?;
            TypeInfo::Chars { ty, max }
        }
        0x28 => TypeInfo::Date,
        0x2A => TypeInfo::DateTime2 { scale: c.u8()? },
        0x6A | 0x6C => {
            let _len = c.u8()?;
            let _precision = c.u8()?;
            TypeInfo::Decimal { scale: c.u8()? }
        }
        other => return Err(format!("type 0x{other:02X} is not supported by the stand-in")),
    })
}

fn int(b: &[u8]) -> Result<i64, String> {
    Ok(match b.len() {
        1 => b[0] as i64,
        2 => i16::from_le_bytes([b[0], b[1]]) as i64,
        4 => i32::from_le_bytes(b.try_into().expect("4")) as i64,
        8 => i64::from_le_bytes(b.try_into().expect("8")),
        n => return Err(format!("an integer of {n} bytes")),
    })
}

fn float(b: &[u8]) -> Result<f64, String> {
    Ok(match b.len() {
        4 => f32::from_le_bytes(b.try_into().expect("4")) as f64,
        8 => f64::from_le_bytes(b.try_into().expect("8")),
        n => return Err(format!("a float of {n} bytes")),
    })
}

/// A DATETIME (days since 1900-01-01, 1/300 s ticks).
fn datetime(b: &[u8]) -> Result<NaiveDateTime, String> {
    let days = i32::from_le_bytes(b[..4].try_into().expect("4"));
    let ticks = u32::from_le_bytes(b[4..8].try_into().expect("4")) as u64;
    let base = NaiveDate::from_ymd_opt(1900, 1, 1).expect("1900-01-01");
    let d = base + chrono::Duration::days(days as i64);
    let ns = ticks * 1_000_000_000 / 300;
    let t = NaiveTime::from_num_seconds_from_midnight_opt((ns / 1_000_000_000) as u32, (ns % 1_000_000_000) as u32)
        .ok_or("bad time")?;
    Ok(d.and_time(t))
}

/// One value of type `t`.
pub fn value(c: &mut Cursor, t: TypeInfo) -> Result<Value, String> {
    Ok(match t {
        TypeInfo::Fixed { ty, len } => {
            let b = c.take(len as usize)?;
            match ty {
                0x32 => Value::Bool(b[0] != 0),
                0x3E | 0x3B => Value::Float(float(b)?),
                0x3D => Value::DateTime(datetime(b)?),
                _ => Value::Int(int(b)?),
            }
        }
        TypeInfo::ByteLen { ty, .. } => {
            let len = c.u8()? as usize;
            if len == 0 {
                return Ok(Value::Null);
            }
            let b = c.take(len)?;
            match ty {
                0x68 => Value::Bool(b[0] != 0),
                0x6D => Value::Float(float(b)?),
                0x6F if len == 8 => Value::DateTime(datetime(b)?),
                0x6F => return Err("SMALLDATETIME is not supported by the stand-in".into()),
                _ => Value::Int(int(b)?),
            }
        }
        TypeInfo::Chars { ty, max } => {
            let bytes = if max == 0xFFFF {
                let total = c.u64()?;
                if total == u64::MAX {
                    return Ok(Value::Null);
                }
                let mut out = Vec::new();
                loop {
                    let n = c.u32()? as usize;
                    if n == 0 {
                        break;
                    }
                    out.extend_from_slice(c.take(n)?);
                }
                out
            } else {
                let n = c.u16()?;
                if n == 0xFFFF {
                    return Ok(Value::Null);
                }
                c.take(n as usize)?.to_vec()
            };
            Value::Text(if ty == 0xE7 || ty == 0xEF {
                utf16(&bytes)
            } else {
                bytes.iter().map(|&b| b as char).collect()
            })
        }
        TypeInfo::Date => {
            let len = c.u8()?;
            if len == 0 {
                return Ok(Value::Null);
            }
            let b = c.take(3)?;
            Value::Date(date_from(u32::from_le_bytes([b[0], b[1], b[2], 0]))?)
        }
        TypeInfo::DateTime2 { scale } => {
            let len = c.u8()? as usize;
            if len == 0 {
                return Ok(Value::Null);
            }
            let b = c.take(len)?;
            let tlen = len - 3;
            let mut t = [0u8; 8];
            t[..tlen].copy_from_slice(&b[..tlen]);
            let units = u64::from_le_bytes(t);
            let d = date_from(u32::from_le_bytes([b[tlen], b[tlen + 1], b[tlen + 2], 0]))?;
            let ns = units as u128 * 10u128.pow(9 - u32::from(scale.min(7)));
            let time =
                NaiveTime::from_num_seconds_from_midnight_opt((ns / 1_000_000_000) as u32, (ns % 1_000_000_000) as u32)
                    .ok_or("bad time")?;
            Value::DateTime(d.and_time(time))
        }
        TypeInfo::Decimal { scale } => {
            let n = c.u8()? as usize;
            if n == 0 {
                return Ok(Value::Null);
            }
            let sign = c.u8()?;
            let mut m = [0u8; 16];
            m[..n - 1].copy_from_slice(c.take(n - 1)?);
            let v = u128::from_le_bytes(m) as i128;
            Value::Decimal(if sign == 0 { -v } else { v }, scale)
        }
    })
}

impl Value {
    /// As a SQL literal, for the statement an RPC's parameters are substituted into.
    pub fn literal(&self) -> String {
        match self {
            Value::Null => "NULL".into(),
            Value::Int(v) => v.to_string(),
            Value::Float(v) => v.to_string(),
            Value::Bool(v) => v.to_string(),
            Value::Text(s) => format!("'{}'", s.replace('\'', "''")),
            Value::Date(d) => format!("DATE '{d}'"),
            Value::DateTime(t) => format!("TIMESTAMP '{}'", t.format("%Y-%m-%d %H:%M:%S%.f")),
            Value::Decimal(m, scale) => {
                let digits = format!("{:0>width$}", m.unsigned_abs(), width = *scale as usize + 1);
                let (int, frac) = digits.split_at(digits.len() - *scale as usize);
                let s = if frac.is_empty() { int.to_string() } else { format!("{int}.{frac}") };
                if *m < 0 { format!("-{s}") } else { s }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Datelike;

    #[test]
    fn values_read_back_as_their_encoding_says() {
        // INTN(8) 42, then NULL; NVARCHAR(20) "ab", then NULL; DATEN 2022-01-31; FLTN(8) NULL.
        let mut b = vec![0x26, 8];
        let mut c = Cursor::new(&b);
        let t = type_info(&mut c).unwrap();
        b.clear();
        b.push(8);
        b.extend(42i64.to_le_bytes());
        b.push(0);
        let mut c = Cursor::new(&b);
        assert_eq!(value(&mut c, t).unwrap(), Value::Int(42));
        assert_eq!(value(&mut c, t).unwrap(), Value::Null);

        let t = TypeInfo::Chars { ty: 0xE7, max: 40 };
        let mut b = 4u16.to_le_bytes().to_vec();
        b.extend([b'a', 0, b'b', 0]);
        b.extend(0xFFFFu16.to_le_bytes());
        let mut c = Cursor::new(&b);
        assert_eq!(value(&mut c, t).unwrap(), Value::Text("ab".into()));
        assert_eq!(value(&mut c, t).unwrap(), Value::Null);

        let days = NaiveDate::from_ymd_opt(2022, 1, 31).unwrap().num_days_from_ce() as u32 - 1;
        let mut b = vec![3];
        b.extend(&days.to_le_bytes()[..3]);
        let mut c = Cursor::new(&b);
        assert_eq!(value(&mut c, TypeInfo::Date).unwrap(), Value::Date(NaiveDate::from_ymd_opt(2022, 1, 31).unwrap()));
        assert_eq!(Value::Decimal(-1205, 2).literal(), "-12.05");
        assert_eq!(Value::Decimal(5, 3).literal(), "0.005");
    }
}
