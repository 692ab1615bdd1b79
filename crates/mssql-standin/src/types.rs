//! SQL Server column types: how each is stored in Arrow, described in COLMETADATA and encoded
//! in a ROW token (MS-TDS 2.2.5.4 and 2.2.5.5; tiberius's `tds/codec/column_data` decoders are
//! the reference for what a client accepts).

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Decimal128Type, Float64Type, Int64Type, TimeUnit, TimestampMicrosecondType,
};
use datafusion::sql::sqlparser::ast::{CharacterLength, DataType as SqlDataType, ExactNumberInfo};

/// `SQL_Latin1_General_CP1_CI_AS`.
pub const COLLATION: [u8; 5] = [0x09, 0x04, 0xD0, 0x00, 0x34];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqlType {
    TinyInt,
    SmallInt,
    Int,
    BigInt,
    Bit,
    Float,
    Real,
    /// `nvarchar(n)`; `None` is `nvarchar(max)`.
    NVarChar(Option<u16>),
    NChar(u16),
    VarChar(Option<u16>),
    Date,
    DateTime,
    /// `datetime2(scale)`.
    DateTime2(u8),
    Decimal(u8, u8),
    UniqueIdentifier,
}

impl SqlType {
    /// From a type as written in DDL or a CAST.
    pub fn from_sql(t: &SqlDataType) -> Option<Self> {
        let len = |l: &Option<CharacterLength>| match l {
            Some(CharacterLength::IntegerLength { length, .. }) => Some((*length).min(4000) as u16),
            _ => None,
        };
        let name = t.to_string().to_ascii_uppercase();
        Some(match t {
            SqlDataType::TinyInt(_) => SqlType::TinyInt,
            SqlDataType::SmallInt(_) => SqlType::SmallInt,
            SqlDataType::Int(_) | SqlDataType::Integer(_) => SqlType::Int,
            SqlDataType::BigInt(_) => SqlType::BigInt,
            SqlDataType::Float(_) | SqlDataType::Double(_) | SqlDataType::DoublePrecision => SqlType::Float,
            SqlDataType::Real => SqlType::Real,
            SqlDataType::Nvarchar(l) => SqlType::NVarChar(len(l)),
            SqlDataType::Varchar(l) | SqlDataType::CharacterVarying(l) => SqlType::VarChar(len(l)),
            SqlDataType::Char(l) | SqlDataType::Character(l) => SqlType::NChar(len(l).unwrap_or(1)),
            SqlDataType::Date => SqlType::Date,
            SqlDataType::Datetime(_) => SqlType::DateTime,
            SqlDataType::Decimal(info) | SqlDataType::Numeric(info) => match info {
                ExactNumberInfo::PrecisionAndScale(p, s) => SqlType::Decimal(*p as u8, *s as u8),
                ExactNumberInfo::Precision(p) => SqlType::Decimal(*p as u8, 0),
                ExactNumberInfo::None => SqlType::Decimal(18, 0),
            },
            _ if name == "BIT" => SqlType::Bit,
            _ if name == "UNIQUEIDENTIFIER" => SqlType::UniqueIdentifier,
            _ if name == "DATETIME2" => SqlType::DateTime2(7),
            _ if name.starts_with("DATETIME2(") => SqlType::DateTime2(name[10..name.len() - 1].parse().ok()?),
            _ if name.starts_with("NCHAR") => {
                SqlType::NChar(name.trim_start_matches("NCHAR(").trim_end_matches(')').parse().unwrap_or(1))
            }
            _ if name == "NVARCHAR(MAX)" => SqlType::NVarChar(None),
            _ if name == "VARCHAR(MAX)" => SqlType::VarChar(None),
            _ if name == "SMALLDATETIME" => SqlType::DateTime,
            _ => return None,
        })
    }

    /// The type DataFusion computes with.
    pub fn arrow(self) -> DataType {
        match self {
            SqlType::TinyInt | SqlType::SmallInt | SqlType::Int | SqlType::BigInt => DataType::Int64,
            SqlType::Bit => DataType::Boolean,
            SqlType::Float | SqlType::Real => DataType::Float64,
            SqlType::NVarChar(_) | SqlType::NChar(_) | SqlType::VarChar(_) | SqlType::UniqueIdentifier => {
                DataType::Utf8
            }
            SqlType::Date => DataType::Date32,
            // Microseconds reach from year 1 to 9999 (nanoseconds would not); datetime2(7)'s last
            // digit is lost.
            SqlType::DateTime | SqlType::DateTime2(_) => DataType::Timestamp(TimeUnit::Microsecond, None),
            SqlType::Decimal(p, s) => DataType::Decimal128(p, s as i8),
        }
    }

    /// A DataFusion-friendly spelling for CAST targets.
    pub fn datafusion_sql(self) -> String {
        match self {
            SqlType::TinyInt | SqlType::SmallInt | SqlType::Int | SqlType::BigInt => "BIGINT".into(),
            SqlType::Bit => "BOOLEAN".into(),
            SqlType::Float | SqlType::Real => "DOUBLE".into(),
            SqlType::NVarChar(_) | SqlType::NChar(_) | SqlType::VarChar(_) | SqlType::UniqueIdentifier => {
                "VARCHAR".into()
            }
            SqlType::Date => "DATE".into(),
            SqlType::DateTime | SqlType::DateTime2(_) => "TIMESTAMP".into(),
            SqlType::Decimal(p, s) => format!("DECIMAL({p}, {s})"),
        }
    }

    /// The SQL Server type a computed Arrow column is described as.
    pub fn of_arrow(t: &DataType) -> SqlType {
        match t {
            DataType::Boolean => SqlType::Bit,
            DataType::Int8 | DataType::Int16 | DataType::UInt8 => SqlType::SmallInt,
            DataType::Int32 | DataType::UInt16 => SqlType::Int,
            t if t.is_integer() => SqlType::BigInt,
            DataType::Float16 | DataType::Float32 | DataType::Float64 => SqlType::Float,
            DataType::Date32 | DataType::Date64 => SqlType::Date,
            DataType::Timestamp(..) => SqlType::DateTime2(7),
            DataType::Decimal128(p, s) => SqlType::Decimal(*p, (*s).max(0) as u8),
            _ => SqlType::NVarChar(None),
        }
    }

    /// TYPE_INFO for COLMETADATA.
    pub fn type_info(self, out: &mut Vec<u8>) {
        match self {
            SqlType::TinyInt => out.extend([0x26, 1]),
            SqlType::SmallInt => out.extend([0x26, 2]),
            SqlType::Int => out.extend([0x26, 4]),
            SqlType::BigInt => out.extend([0x26, 8]),
            SqlType::Bit => out.extend([0x68, 1]),
            SqlType::Float => out.extend([0x6D, 8]),
            SqlType::Real => out.extend([0x6D, 4]),
            SqlType::NVarChar(n) => {
                out.push(0xE7);
                out.extend(n.map_or(0xFFFF, |n| n * 2).to_le_bytes());
                out.extend(COLLATION);
            }
            SqlType::NChar(n) => {
                out.push(0xEF);
                out.extend((n * 2).to_le_bytes());
                out.extend(COLLATION);
            }
            SqlType::VarChar(n) => {
                out.push(0xA7);
                out.extend(n.unwrap_or(0xFFFF).to_le_bytes());
                out.extend(COLLATION);
            }
            SqlType::Date => out.push(0x28),
            SqlType::DateTime => out.extend([0x6F, 8]),
            SqlType::DateTime2(s) => out.extend([0x2A, s]),
            SqlType::Decimal(p, s) => out.extend([0x6A, decimal_len(p), p, s]),
            SqlType::UniqueIdentifier => out.extend([0x24, 16]),
        }
    }

    /// Casts a result column to the Arrow type this SQL type is encoded from.
    pub fn conform(self, a: &ArrayRef) -> Result<ArrayRef, String> {
        cast(a, &self.arrow()).map_err(|e| e.to_string())
    }

    /// Appends one value (row `i` of an array already `conform`ed) to a ROW token.
    pub fn encode(self, a: &ArrayRef, i: usize, out: &mut Vec<u8>) -> Result<(), String> {
        let null = a.is_null(i);
        match self {
            SqlType::TinyInt | SqlType::SmallInt | SqlType::Int | SqlType::BigInt => {
                let n = match self {
                    SqlType::TinyInt => 1,
                    SqlType::SmallInt => 2,
                    SqlType::Int => 4,
                    _ => 8,
                };
                if null {
                    out.push(0);
                } else {
                    let v = a.as_primitive::<Int64Type>().value(i);
                    out.push(n as u8);
                    out.extend(&v.to_le_bytes()[..n]);
                }
            }
            SqlType::Bit => {
                if null {
                    out.push(0)
                } else {
                    out.extend([1, a.as_boolean().value(i) as u8])
                }
            }
            SqlType::Float | SqlType::Real => {
                if null {
                    out.push(0);
                } else {
                    let v = a.as_primitive::<Float64Type>().value(i);
                    if self == SqlType::Real {
                        out.push(4);
                        out.extend((v as f32).to_le_bytes());
                    } else {
                        out.push(8);
                        out.extend(v.to_le_bytes());
                    }
                }
            }
            SqlType::NVarChar(Some(_)) | SqlType::NChar(_) => {
                if null {
                    out.extend([0xFF, 0xFF]);
                } else {
                    let mut s: Vec<u16> = a.as_string::<i32>().value(i).encode_utf16().collect();
                    if let SqlType::NChar(n) = self {
                        s.resize(n as usize, u16::from(b' '));
                    }
                    out.extend(((s.len() * 2) as u16).to_le_bytes());
                    for c in s {
                        out.extend(c.to_le_bytes());
                    }
                }
            }
            SqlType::NVarChar(None) | SqlType::VarChar(None) => {
                if null {
                    out.extend(u64::MAX.to_le_bytes());
                } else {
                    let s = a.as_string::<i32>().value(i);
                    let bytes: Vec<u8> = if self == SqlType::VarChar(None) {
                        latin1(s)
                    } else {
                        s.encode_utf16().flat_map(u16::to_le_bytes).collect()
                    };
                    out.extend((bytes.len() as u64).to_le_bytes());
                    // PLP chunks of at most 8000 bytes, then a zero terminator.
                    for chunk in bytes.chunks(8000) {
                        out.extend((chunk.len() as u32).to_le_bytes());
                        out.extend(chunk);
                    }
                    out.extend(0u32.to_le_bytes());
                }
            }
            SqlType::VarChar(Some(_)) => {
                if null {
                    out.extend([0xFF, 0xFF]);
                } else {
                    let b = latin1(a.as_string::<i32>().value(i));
                    out.extend((b.len() as u16).to_le_bytes());
                    out.extend(b);
                }
            }
            SqlType::Date => {
                if null {
                    out.push(0);
                } else {
                    let days = a.as_primitive::<Date32Type>().value(i) as i64 + 719_162;
                    out.push(3);
                    out.extend(&(days as u32).to_le_bytes()[..3]);
                }
            }
            SqlType::DateTime => {
                if null {
                    out.push(0);
                } else {
                    let us = a.as_primitive::<TimestampMicrosecondType>().value(i);
                    // Days since 1900-01-01 and 1/300 s ticks of the day.
                    let days = us.div_euclid(86_400_000_000) + 25_567;
                    let day_us = us.rem_euclid(86_400_000_000);
                    let ticks = (day_us as i128 * 300 / 1_000_000) as u32;
                    out.push(8);
                    out.extend((days as i32).to_le_bytes());
                    out.extend(ticks.to_le_bytes());
                }
            }
            SqlType::DateTime2(scale) => {
                if null {
                    out.push(0);
                } else {
                    let ns = a.as_primitive::<TimestampMicrosecondType>().value(i) as i128 * 1000;
                    let days = ns.div_euclid(86_400_000_000_000) + 719_162;
                    let day_ns = ns.rem_euclid(86_400_000_000_000);
                    let units = day_ns / 10i128.pow(9 - u32::from(scale.min(7)));
                    let tlen = time_len(scale);
                    out.push((tlen + 3) as u8);
                    out.extend(&(units as u64).to_le_bytes()[..tlen]);
                    out.extend(&(days as u32).to_le_bytes()[..3]);
                }
            }
            SqlType::Decimal(p, _) => {
                if null {
                    out.push(0);
                } else {
                    let v = a.as_primitive::<Decimal128Type>().value(i);
                    let len = decimal_len(p);
                    out.push(len);
                    out.push(u8::from(v >= 0));
                    out.extend(&v.unsigned_abs().to_le_bytes()[..(len - 1) as usize]);
                }
            }
            SqlType::UniqueIdentifier => {
                if null {
                    out.push(0);
                } else {
                    let s = a.as_string::<i32>().value(i);
                    let hex: String = s.chars().filter(|c| c.is_ascii_hexdigit()).collect();
                    if hex.len() != 32 {
                        return Err(format!("`{s}` is not a uniqueidentifier"));
                    }
                    let b: Vec<u8> =
                        (0..16).map(|k| u8::from_str_radix(&hex[2 * k..2 * k + 2], 16).unwrap_or(0)).collect();
                    out.push(16);
                    // Data1, Data2 and Data3 little-endian, Data4 as written.
                    out.extend([b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6]]);
                    out.extend(&b[8..]);
                }
            }
        }
        Ok(())
    }
}

fn latin1(s: &str) -> Vec<u8> {
    s.chars().map(|c| if (c as u32) < 256 { c as u8 } else { b'?' }).collect()
}

fn decimal_len(p: u8) -> u8 {
    match p {
        0..=9 => 5,
        10..=19 => 9,
        20..=28 => 13,
        _ => 17,
    }
}

fn time_len(scale: u8) -> usize {
    match scale {
        0..=2 => 3,
        3..=4 => 4,
        _ => 5,
    }
}
