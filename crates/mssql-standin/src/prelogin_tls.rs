//! TLS negotiated in PRELOGIN (`encrypt=required`, and login-only encryption): the TLS handshake
//! travels inside TDS PRELOGIN packets, then TLS records flow directly over TCP (MS-TDS 3.3.5;
//! tiberius's `TlsPreloginWrapper` is the client side of this).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

pub struct PreloginWrapped<S> {
    pub inner: S,
    /// After the handshake, bytes pass through untouched.
    pub handshake_done: bool,
    /// Bytes of the current packet's payload still to read.
    remaining: usize,
    header: [u8; 8],
    header_read: usize,
    out: Vec<u8>,
    written: usize,
}

impl<S> PreloginWrapped<S> {
    pub fn new(inner: S) -> Self {
        Self { inner, handshake_done: false, remaining: 0, header: [0; 8], header_read: 0, out: Vec::new(), written: 0 }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for PreloginWrapped<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let me = &mut *self;
        if me.handshake_done {
            return Pin::new(&mut me.inner).poll_read(cx, buf);
        }
        while me.remaining == 0 {
            // Read the next packet header.
            while me.header_read < 8 {
                let mut hb = ReadBuf::new(&mut me.header[me.header_read..]);
                match Pin::new(&mut me.inner).poll_read(cx, &mut hb) {
                    Poll::Ready(Ok(())) => {
                        let n = hb.filled().len();
                        if n == 0 {
                            return Poll::Ready(Ok(()));
                        }
                        me.header_read += n;
                    }
                    other => return other,
                }
            }
            let len = u16::from_be_bytes([me.header[2], me.header[3]]) as usize;
            me.remaining = len.saturating_sub(8);
            me.header_read = 0;
        }
        let want = me.remaining.min(buf.remaining());
        let mut limited = ReadBuf::new(buf.initialize_unfilled_to(want));
        match Pin::new(&mut me.inner).poll_read(cx, &mut limited) {
            Poll::Ready(Ok(())) => {
                let n = limited.filled().len();
                me.remaining -= n;
                buf.advance(n);
                Poll::Ready(Ok(()))
            }
            other => other,
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for PreloginWrapped<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let me = &mut *self;
        if me.handshake_done {
            return Pin::new(&mut me.inner).poll_write(cx, data);
        }
        // Buffer; the packet is framed on flush.
        me.out.extend_from_slice(data);
        Poll::Ready(Ok(data.len()))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let me = &mut *self;
        if !me.out.is_empty() && me.written == 0 {
            let len = (me.out.len() + 8) as u16;
            let mut framed = vec![0x12, 0x01, (len >> 8) as u8, len as u8, 0, 0, 0, 0];
            framed.extend_from_slice(&me.out);
            me.out = framed;
        }
        while me.written < me.out.len() {
            match Pin::new(&mut me.inner).poll_write(cx, &me.out[me.written..]) {
                Poll::Ready(Ok(n)) => me.written += n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        me.out.clear();
        me.written = 0;
        Pin::new(&mut me.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
