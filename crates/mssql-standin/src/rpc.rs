//! `sp_executesql` as tiberius sends it (MS-TDS 2.2.6.6): the statement and its `@P1..`
//! parameters, turned back into one SQL text with the values as literals.

use crate::decode::{Cursor, type_info, utf16, value as decode_value};

/// A parameter: its TYPE_INFO, then its value; as a SQL literal.
fn value(c: &mut Cursor) -> Result<String, String> {
    let t = type_info(c).map_err(|e| format!("parameter: {e}"))?;
    Ok(decode_value(c, t)?.literal())
}

/// The statement an `sp_executesql` RPC runs, its parameters substituted.
pub fn statement(body: &[u8]) -> Result<String, String> {
    let mut c = Cursor::new(body);
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
