//! TDS framing and the tokens the stand-in sends (MS-TDS; see `../shared/notes/tds.md`).

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

pub const PRELOGIN: u8 = 0x12;
pub const LOGIN7: u8 = 0x10;
pub const SQL_BATCH: u8 = 0x01;
pub const RPC: u8 = 0x03;
pub const ATTENTION: u8 = 0x06;
pub const BULK_LOAD: u8 = 0x07;
pub const REPLY: u8 = 0x04;

/// Reads one message (all its packets); `None` at end of stream.
pub async fn read_message<S: AsyncRead + Unpin>(s: &mut S) -> std::io::Result<Option<(u8, Vec<u8>)>> {
    let mut body = Vec::new();
    loop {
        let mut header = [0u8; 8];
        match s.read_exact(&mut header).await {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && body.is_empty() => return Ok(None),
            Err(e) => return Err(e),
        }
        let kind = header[0];
        let len = u16::from_be_bytes([header[2], header[3]]) as usize;
        if len < 8 {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "packet shorter than its header"));
        }
        let start = body.len();
        body.resize(start + len - 8, 0);
        s.read_exact(&mut body[start..]).await?;
        if header[1] & 0x01 == 0x01 {
            return Ok(Some((kind, body)));
        }
    }
}

/// Writes reply bytes as packets of at most `packet_size`, buffering the last partial packet
/// so that a long result streams out packet by packet.
pub struct Replier {
    pub packet_size: usize,
    pending: Vec<u8>,
    packet_id: u8,
}

impl Replier {
    pub fn new(packet_size: usize) -> Self {
        Self { packet_size, pending: Vec::new(), packet_id: 1 }
    }

    pub fn buf(&mut self) -> &mut Vec<u8> {
        &mut self.pending
    }

    async fn write_packet<S: AsyncWrite + Unpin>(
        &mut self,
        s: &mut S,
        payload: &[u8],
        last: bool,
    ) -> std::io::Result<()> {
        let len = (payload.len() + 8) as u16;
        let header = [REPLY, u8::from(last), (len >> 8) as u8, len as u8, 0, 0, self.packet_id, 0];
        self.packet_id = self.packet_id.wrapping_add(1);
        s.write_all(&header).await?;
        s.write_all(payload).await
    }

    /// Sends every full packet buffered so far.
    pub async fn flush_full<S: AsyncWrite + Unpin>(&mut self, s: &mut S) -> std::io::Result<()> {
        let max = self.packet_size - 8;
        if self.pending.len() <= max {
            return Ok(());
        }
        let full = (self.pending.len() - 1) / max * max;
        let chunk: Vec<u8> = self.pending.drain(..full).collect();
        for p in chunk.chunks(max) {
            self.write_packet(s, p, false).await?;
        }
        s.flush().await
    }

    /// Ends the message: the rest, with the end-of-message bit.
    pub async fn finish<S: AsyncWrite + Unpin>(&mut self, s: &mut S) -> std::io::Result<()> {
        self.flush_full(s).await?;
        let rest = std::mem::take(&mut self.pending);
        self.write_packet(s, &rest, true).await?;
        self.packet_id = 1;
        s.flush().await
    }
}

pub fn b_varchar(out: &mut Vec<u8>, s: &str) {
    let u: Vec<u16> = s.encode_utf16().collect();
    out.push(u.len() as u8);
    for c in u {
        out.extend(c.to_le_bytes());
    }
}

pub fn us_varchar(out: &mut Vec<u8>, s: &str) {
    let u: Vec<u16> = s.encode_utf16().collect();
    out.extend((u.len() as u16).to_le_bytes());
    for c in u {
        out.extend(c.to_le_bytes());
    }
}

fn with_len(out: &mut Vec<u8>, token: u8, body: Vec<u8>) {
    out.push(token);
    out.extend((body.len() as u16).to_le_bytes());
    out.extend(body);
}

pub fn env_change(out: &mut Vec<u8>, kind: u8, new: &str, old: &str) {
    let mut b = vec![kind];
    b_varchar(&mut b, new);
    b_varchar(&mut b, old);
    with_len(out, 0xE3, b);
}

/// ENVCHANGE for a transaction (8 begin, 9 commit, 10 rollback): the transaction descriptor a
/// client sends back in ALL_HEADERS while the transaction is open.
pub fn transaction_change(out: &mut Vec<u8>, kind: u8, descriptor: u64) {
    let mut b = vec![kind];
    let d = descriptor.to_le_bytes();
    if kind == 8 {
        b.push(8);
        b.extend(d);
        b.push(0);
    } else {
        b.push(0);
        b.push(8);
        b.extend(d);
    }
    with_len(out, 0xE3, b);
}

pub fn login_ack(out: &mut Vec<u8>) {
    let mut b = vec![1];
    b.extend(0x7400_0004u32.to_be_bytes());
    b_varchar(&mut b, "mssql-standin");
    b.extend([16, 0, 0, 0]);
    with_len(out, 0xAD, b);
}

pub fn error(out: &mut Vec<u8>, number: i32, state: u8, class: u8, message: &str) {
    let mut b = Vec::new();
    b.extend(number.to_le_bytes());
    b.push(state);
    b.push(class);
    us_varchar(&mut b, message);
    b_varchar(&mut b, "mssql-standin");
    b_varchar(&mut b, "");
    b.extend(1i32.to_le_bytes());
    with_len(out, 0xAA, b);
}

pub const DONE_MORE: u16 = 0x0001;
pub const DONE_ERROR: u16 = 0x0002;
pub const DONE_COUNT: u16 = 0x0010;

pub fn done(out: &mut Vec<u8>, status: u16, curcmd: u16, rows: u64) {
    out.push(0xFD);
    out.extend(status.to_le_bytes());
    out.extend(curcmd.to_le_bytes());
    out.extend(rows.to_le_bytes());
}

/// The PRELOGIN answer: version and the encryption we agree to.
pub fn prelogin_reply(encryption: u8) -> Vec<u8> {
    // Two options (VERSION, ENCRYPTION), terminator, then data.
    let header_len = 5 * 2 + 1;
    let mut out = vec![0x00];
    out.extend((header_len as u16).to_be_bytes());
    out.extend(6u16.to_be_bytes());
    out.push(0x01);
    out.extend((header_len as u16 + 6).to_be_bytes());
    out.extend(1u16.to_be_bytes());
    out.push(0xFF);
    out.extend([16, 0, 0x07, 0xD0, 0, 0]);
    out.push(encryption);
    out
}

/// What the client asked for in its PRELOGIN.
pub fn prelogin_encryption(body: &[u8]) -> Option<u8> {
    let mut i = 0;
    while i + 5 <= body.len() && body[i] != 0xFF {
        let (token, off, len) = (
            body[i],
            u16::from_be_bytes([body[i + 1], body[i + 2]]) as usize,
            u16::from_be_bytes([body[i + 3], body[i + 4]]),
        );
        if token == 0x01 && len >= 1 {
            return body.get(off).copied();
        }
        i += 5;
    }
    None
}

/// The user, password and database of a LOGIN7 body (MS-TDS 2.2.6.4).
pub struct Login {
    pub user: String,
    pub password: String,
    pub database: String,
    pub packet_size: u32,
}

fn utf16_at(body: &[u8], at: usize) -> Option<String> {
    let off = u16::from_le_bytes([*body.get(at)?, *body.get(at + 1)?]) as usize;
    let chars = u16::from_le_bytes([*body.get(at + 2)?, *body.get(at + 3)?]) as usize;
    let bytes = body.get(off..off + chars * 2)?;
    Some(String::from_utf16_lossy(&bytes.chunks(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect::<Vec<_>>()))
}

pub fn parse_login(body: &[u8]) -> Option<Login> {
    let packet_size = u32::from_le_bytes(body.get(8..12)?.try_into().ok()?);
    let user = utf16_at(body, 40)?;
    let off = u16::from_le_bytes([*body.get(44)?, *body.get(45)?]) as usize;
    let chars = u16::from_le_bytes([*body.get(46)?, *body.get(47)?]) as usize;
    let raw = body.get(off..off + chars * 2)?;
    // Each byte had its nibbles swapped and was XORed with 0xA5.
    let plain: Vec<u8> = raw.iter().map(|b| (b ^ 0xA5).rotate_left(4)).collect();
    let password =
        String::from_utf16_lossy(&plain.chunks(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect::<Vec<_>>());
    let database = utf16_at(body, 68)?;
    Some(Login { user, password, database, packet_size })
}

/// The SQL text of a batch (after ALL_HEADERS).
pub fn batch_sql(body: &[u8]) -> String {
    let skip = if body.len() >= 4 { u32::from_le_bytes([body[0], body[1], body[2], body[3]]) as usize } else { 0 };
    let text = body.get(skip..).unwrap_or(&[]);
    String::from_utf16_lossy(
        &text.chunks(2).filter(|c| c.len() == 2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect::<Vec<_>>(),
    )
}
