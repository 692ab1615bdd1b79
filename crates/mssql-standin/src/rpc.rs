//! `sp_executesql` as tiberius sends it (MS-TDS 2.2.6.6): the statement and its `@P1..`
//! parameters, turned back into one SQL text with the values as literals.

struct Cursor<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let s = self.b.get(self.at..self.at + n).ok_or("RPC request is truncated")?;
        self.at += n;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, String> {
        let s = self.take(2)?;
        Ok(u16::from_le_bytes([s[0], s[1]]))
    }
    fn u32(&mut self) -> Result<u32, String> {
        let s = self.take(4)?;
        Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }
    fn u64(&mut self) -> Result<u64, String> {
        let s = self.take(8)?;
        Ok(u64::from_le_bytes(s.try_into().expect("8 bytes")))
    }
}

fn utf16(b: &[u8]) -> String {
    String::from_utf16_lossy(
        &b.chunks(2).filter(|c| c.len() == 2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect::<Vec<_>>(),
    )
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A parameter value as a SQL literal.
fn value(c: &mut Cursor) -> Result<String, String> {
    let ty = c.u8()?;
    Ok(match ty {
        0x26 | 0x68 | 0x6D => {
            let _max = c.u8()?;
            let len = c.u8()? as usize;
            if len == 0 {
                return Ok("NULL".into());
            }
            let b = c.take(len)?;
            match (ty, len) {
                (0x68, _) => (b[0] != 0).to_string(),
                (0x6D, 4) => f32::from_le_bytes(b.try_into().expect("4")).to_string(),
                (0x6D, _) => f64::from_le_bytes(b.try_into().map_err(|_| "bad float")?).to_string(),
                (_, 1) => b[0].to_string(),
                (_, 2) => i16::from_le_bytes([b[0], b[1]]).to_string(),
                (_, 4) => i32::from_le_bytes(b.try_into().expect("4")).to_string(),
                _ => i64::from_le_bytes(b.try_into().map_err(|_| "bad int")?).to_string(),
            }
        }
        0xE7 | 0xA7 | 0xEF | 0xAF => {
            let max = c.u16()?;
            c.take(5)?;
            let bytes = if max == 0xFFFF {
                let total = c.u64()?;
                if total == u64::MAX {
                    return Ok("NULL".into());
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
                    return Ok("NULL".into());
                }
                c.take(n as usize)?.to_vec()
            };
            let text =
                if ty == 0xE7 || ty == 0xEF { utf16(&bytes) } else { bytes.iter().map(|&b| b as char).collect() };
            quote(&text)
        }
        0x28 => {
            let len = c.u8()?;
            if len == 0 {
                return Ok("NULL".into());
            }
            let b = c.take(3)?;
            let days = u32::from_le_bytes([b[0], b[1], b[2], 0]) as i64;
            let d = chrono::NaiveDate::from_num_days_from_ce_opt((days + 1) as i32).ok_or("bad date")?;
            format!("DATE '{d}'")
        }
        0x2A => {
            let scale = c.u8()?;
            let len = c.u8()? as usize;
            if len == 0 {
                return Ok("NULL".into());
            }
            let b = c.take(len)?;
            let tlen = len - 3;
            let mut t = [0u8; 8];
            t[..tlen].copy_from_slice(&b[..tlen]);
            let units = u64::from_le_bytes(t);
            let days = u32::from_le_bytes([b[tlen], b[tlen + 1], b[tlen + 2], 0]) as i64;
            let d = chrono::NaiveDate::from_num_days_from_ce_opt((days + 1) as i32).ok_or("bad date")?;
            let ns = units as u128 * 10u128.pow(9 - u32::from(scale.min(7)));
            let time = chrono::NaiveTime::from_num_seconds_from_midnight_opt(
                (ns / 1_000_000_000) as u32,
                (ns % 1_000_000_000) as u32,
            )
            .ok_or("bad time")?;
            format!("TIMESTAMP '{} {}'", d, time.format("%H:%M:%S%.f"))
        }
        0x6A | 0x6C => {
            let _len = c.u8()?;
            let _p = c.u8()?;
            let scale = c.u8()?;
            let n = c.u8()? as usize;
            if n == 0 {
                return Ok("NULL".into());
            }
            let sign = c.u8()?;
            let mut m = [0u8; 16];
            m[..n - 1].copy_from_slice(c.take(n - 1)?);
            let v = u128::from_le_bytes(m);
            let digits = format!("{v:0>width$}", width = scale as usize + 1);
            let (int, frac) = digits.split_at(digits.len() - scale as usize);
            let s = if frac.is_empty() { int.to_string() } else { format!("{int}.{frac}") };
            if sign == 0 { format!("-{s}") } else { s }
        }
        other => return Err(format!("parameter type 0x{other:02X} is not supported by the stand-in")),
    })
}

/// The statement an `sp_executesql` RPC runs, its parameters substituted.
pub fn statement(body: &[u8]) -> Result<String, String> {
    let mut c = Cursor { b: body, at: 0 };
    let headers = c.u32()? as usize;
    c.at = headers;
    let name_len = c.u16()?;
    if name_len == 0xFFFF {
        let id = c.u16()?;
        if id != 10 {
            return Err(format!("stored procedure id {id} is not supported (only sp_executesql)"));
        }
    } else {
        let name = utf16(c.take(name_len as usize * 2)?);
        if !name.eq_ignore_ascii_case("sp_executesql") {
            return Err(format!("stored procedure {name} is not supported"));
        }
    }
    let _flags = c.u16()?;
    let mut params = Vec::new();
    while c.at < body.len() {
        let n = c.u8()? as usize;
        let name = utf16(c.take(n * 2)?);
        let _status = c.u8()?;
        params.push((name, value(&mut c)?));
    }
    let mut it = params.into_iter();
    let (_, stmt) = it.next().ok_or("sp_executesql without a statement")?;
    // The statement arrives as a quoted literal: unquote it.
    let mut sql = stmt.trim_start_matches('\'').trim_end_matches('\'').replace("''", "'");
    let _declarations = it.next();
    let mut values: Vec<(String, String)> =
        it.enumerate().map(|(k, (name, v))| (if name.is_empty() { format!("@P{}", k + 1) } else { name }, v)).collect();
    // Longest names first, so @P10 is not replaced as @P1 followed by 0.
    values.sort_by_key(|v| std::cmp::Reverse(v.0.len()));
    for (name, v) in values {
        sql = sql.replace(&name, &v);
    }
    Ok(sql)
}
