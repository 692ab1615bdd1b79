//! The TCP server: PRELOGIN, LOGIN7 with SQL authentication, SQL batches and `sp_executesql`
//! RPCs, results streamed in packets of the negotiated size, plaintext or TDS 8.0 strict TLS,
//! and the faults tests inject.

use futures::StreamExt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;

use crate::db::{Db, Outcome, TransactionEvent};
use crate::tds::{self, Replier};

/// Faults for tests. Each one-off fault fires once per server.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Drop the connection once, after sending this many rows of a table query.
    pub drop_after_rows: Option<u64>,
    /// Refuse this many logins first (error 40613, database unavailable: transient).
    pub fail_logins: u32,
    /// Answer the first table query with this error number (1205 deadlock, 40613, ...).
    pub error_once: Option<i32>,
    /// Wait this long before answering the first table query.
    pub stall: Option<Duration>,
    /// Refuse snapshot isolation (error 3952), as a database without ALLOW_SNAPSHOT_ISOLATION.
    pub no_snapshot: bool,
    /// Drop the connection once, when the n-th bulk load message (counting from 1, across the
    /// server) arrives, before its rows are stored: a network failure in the middle of a load.
    pub drop_in_bulk_load: Option<u32>,
}

#[derive(Default)]
struct FaultState {
    logins_refused: AtomicU32,
    dropped: AtomicBool,
    errored: AtomicBool,
    stalled: AtomicBool,
    bulk_loads: AtomicU32,
}

/// How the stand-in is set up.
#[derive(Clone)]
pub struct Options {
    pub user: String,
    pub password: String,
    /// TDS 8.0 strict: TLS from the first byte, with a certificate generated at start.
    pub tls: bool,
    pub faults: Faults,
}

/// Counters a test can read.
#[derive(Default)]
pub struct Stats {
    pub connections: AtomicU64,
    pub logins: AtomicU64,
    pub queries: AtomicU64,
    /// Rows stored by bulk loads.
    pub bulk_rows: AtomicU64,
    /// Transactions begun, for their descriptors.
    pub transactions: AtomicU64,
}

pub struct Server {
    db: Arc<Db>,
    options: Options,
    faults: Arc<FaultState>,
    /// Strict TLS.
    acceptor: tokio_rustls::TlsAcceptor,
    /// TLS negotiated in PRELOGIN.
    prelogin_acceptor: tokio_rustls::TlsAcceptor,
    certificate_pem: String,
    pub stats: Arc<Stats>,
}

/// TLS acceptors for strict mode (TLS 1.3, ALPN tds/8.0) and for TLS negotiated in PRELOGIN.
/// The latter is TLS 1.2, as SQL Server speaks it: in TLS 1.3 the client's last handshake
/// message leaves after the client considers the handshake done, unframed, which the PRELOGIN
/// framing cannot carry.
fn acceptor(cert: &rcgen::CertifiedKey<rcgen::KeyPair>, tls12_only: bool) -> Result<tokio_rustls::TlsAcceptor, String> {
    let der = rustls::pki_types::CertificateDer::from(cert.cert.der().to_vec());
    let key =
        rustls::pki_types::PrivateKeyDer::try_from(cert.signing_key.serialize_der()).map_err(|e| e.to_string())?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let versions: &[&rustls::SupportedProtocolVersion] =
        if tls12_only { &[&rustls::version::TLS12] } else { rustls::DEFAULT_VERSIONS };
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(vec![der], key)
        .map_err(|e| e.to_string())?;
    config.alpn_protocols = vec![b"tds/8.0".to_vec()];
    // Tickets would follow the handshake while it is still framed in PRELOGIN packets on our
    // side but no longer on the client's.
    config.send_tls13_tickets = 0;
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

impl Server {
    pub fn new(db: Db, options: Options) -> Result<Self, String> {
        // One certificate for both ways in, so a client given it as its CA trusts either.
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .map_err(|e| e.to_string())?;
        Ok(Self {
            db: Arc::new(db),
            options,
            faults: Arc::default(),
            acceptor: acceptor(&cert, false)?,
            prelogin_acceptor: acceptor(&cert, true)?,
            certificate_pem: cert.cert.pem(),
            stats: Arc::default(),
        })
    }

    /// The server's self-signed certificate (PEM), for clients that verify it.
    pub fn certificate_pem(&self) -> &str {
        &self.certificate_pem
    }

    /// Listens on `addr` (port 0 picks one) and serves until the task is dropped.
    pub async fn listen(self, addr: &str) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
        let listener = TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        let me = Arc::new(self);
        let handle = tokio::spawn(async move {
            loop {
                let Ok((tcp, peer)) = listener.accept().await else { continue };
                let me = me.clone();
                me.stats.connections.fetch_add(1, Ordering::Relaxed);
                tokio::spawn(async move {
                    let _ = tcp.set_nodelay(true);
                    // As SQL Server 2022 does, one port serves both: TDS 8.0 strict opens with a TLS
                    // ClientHello, the older clients with a PRELOGIN packet (and TLS negotiated in it,
                    // which a strict server then insists on).
                    let mut first = [0u8; 1];
                    let result = match tcp.peek(&mut first).await {
                        Ok(1) if me.options.tls && first[0] != tds::PRELOGIN => match me.acceptor.accept(tcp).await {
                            Ok(s) => me.session(s, true).await,
                            Err(e) => Err(e),
                        },
                        Ok(_) => me.negotiated(tcp, me.options.tls).await,
                        Err(e) => Err(e),
                    };
                    if let Err(e) = result {
                        tracing::debug!(%peer, error = %e, "connection ended");
                    }
                });
            }
        });
        Ok((local, handle))
    }

    /// Plaintext TCP: encryption as the client asks in PRELOGIN. Not supported: plaintext
    /// throughout (unless `require`, which answers "required" and so ends the connection). Off:
    /// only the login is encrypted. On or required: TLS for the whole session.
    async fn negotiated(&self, mut tcp: tokio::net::TcpStream, require: bool) -> std::io::Result<()> {
        let Some((kind, body)) = tds::read_message(&mut tcp).await? else { return Ok(()) };
        if kind != tds::PRELOGIN {
            return Ok(());
        }
        let asked = tds::prelogin_encryption(&body).unwrap_or(0x02);
        let answer = match asked {
            0x02 if require => 0x03,
            0x02 => 0x02,
            0x00 if !require => 0x00,
            _ => 0x01,
        };
        let mut out = Replier::new(4096);
        out.buf().extend(tds::prelogin_reply(answer));
        out.finish(&mut tcp).await?;
        if answer == 0x02 {
            return self.login_and_serve(tcp, None).await;
        }
        if answer == 0x03 {
            return Ok(());
        }
        let mut tls = self.prelogin_acceptor.accept(crate::prelogin_tls::PreloginWrapped::new(tcp)).await?;
        tls.get_mut().0.handshake_done = true;
        if answer == 0x01 {
            return self.login_and_serve(tls, None).await;
        }
        // Login-only encryption: read LOGIN7 over TLS, then plaintext from the reply on.
        let Some((kind, body)) = tds::read_message(&mut tls).await? else { return Ok(()) };
        if kind != tds::LOGIN7 {
            return Ok(());
        }
        let tcp = tls.into_inner().0.inner;
        self.login_and_serve(tcp, Some(body)).await
    }

    /// Over strict TLS: PRELOGIN inside the TLS session, then the login.
    async fn session<S: AsyncRead + AsyncWrite + Unpin>(&self, mut s: S, _strict: bool) -> std::io::Result<()> {
        let mut out = Replier::new(4096);
        let Some((kind, body)) = tds::read_message(&mut s).await? else { return Ok(()) };
        if kind != tds::PRELOGIN {
            return Ok(());
        }
        let asked = tds::prelogin_encryption(&body).unwrap_or(0x02);
        out.buf().extend(tds::prelogin_reply(asked));
        out.finish(&mut s).await?;
        self.login_and_serve(s, None).await
    }

    /// LOGIN7 (read here unless `login` was already read), then requests until the client goes.
    async fn login_and_serve<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        mut s: S,
        login: Option<Vec<u8>>,
    ) -> std::io::Result<()> {
        let mut out = Replier::new(4096);
        let body = match login {
            Some(b) => b,
            None => {
                let Some((kind, body)) = tds::read_message(&mut s).await? else { return Ok(()) };
                if kind != tds::LOGIN7 {
                    return Ok(());
                }
                body
            }
        };
        let Some(login) = tds::parse_login(&body) else { return Ok(()) };
        if self.faults_refuse_login() {
            tds::error(
                out.buf(),
                40613,
                1,
                16,
                &format!(
                    "Database '{}' on server 'mssql-standin' is not currently available. Please retry the connection later.",
                    login.database
                ),
            );
            tds::done(out.buf(), tds::DONE_ERROR, 0, 0);
            return out.finish(&mut s).await;
        }
        if login.user != self.options.user || login.password != self.options.password {
            tds::error(out.buf(), 18456, 1, 14, &format!("Login failed for user '{}'.", login.user));
            tds::done(out.buf(), tds::DONE_ERROR, 0, 0);
            return out.finish(&mut s).await;
        }
        if !login.database.is_empty() && !login.database.eq_ignore_ascii_case(&self.db.database) {
            tds::error(
                out.buf(),
                4060,
                1,
                11,
                &format!("Cannot open database \"{}\" requested by the login. The login failed.", login.database),
            );
            tds::done(out.buf(), tds::DONE_ERROR, 0, 0);
            return out.finish(&mut s).await;
        }
        self.stats.logins.fetch_add(1, Ordering::Relaxed);
        let packet_size = login.packet_size.clamp(512, 32_767);
        tds::env_change(out.buf(), 1, &self.db.database, "master");
        tds::login_ack(out.buf());
        tds::env_change(out.buf(), 4, &packet_size.to_string(), "4096");
        tds::done(out.buf(), 0, 0, 0);
        out.finish(&mut s).await?;
        out.packet_size = packet_size as usize;

        // Dropped with the connection: an open transaction is rolled back.
        let mut session = crate::db::Session::default();
        loop {
            let Some((kind, body)) = tds::read_message(&mut s).await? else { return Ok(()) };
            let sql = match kind {
                tds::BULK_LOAD => {
                    if !self.bulk_load(&body, &mut session, &mut out, &mut s).await? {
                        return Ok(());
                    }
                    continue;
                }
                tds::SQL_BATCH => tds::batch_sql(&body),
                tds::RPC => match crate::rpc::statement(&body) {
                    Ok(sql) => sql,
                    Err(e) => {
                        tds::error(out.buf(), 8114, 1, 16, &e);
                        tds::done(out.buf(), tds::DONE_ERROR, 0, 0);
                        out.finish(&mut s).await?;
                        continue;
                    }
                },
                tds::ATTENTION => {
                    tds::done(out.buf(), 0x0020, 0, 0);
                    out.finish(&mut s).await?;
                    continue;
                }
                _ => return Ok(()),
            };
            self.stats.queries.fetch_add(1, Ordering::Relaxed);
            if !self.answer(&sql, &mut session, &mut out, &mut s).await? {
                return Ok(());
            }
        }
    }

    fn faults_refuse_login(&self) -> bool {
        let n = self.faults.logins_refused.load(Ordering::SeqCst);
        if n < self.options.faults.fail_logins {
            self.faults.logins_refused.fetch_add(1, Ordering::SeqCst);
            return true;
        }
        false
    }

    /// Stores the rows of a bulk load into the table the session's `INSERT BULK` named; `false`
    /// when the connection must be dropped.
    async fn bulk_load<S: AsyncWrite + Unpin>(
        &self,
        body: &[u8],
        session: &mut crate::db::Session,
        out: &mut Replier,
        s: &mut S,
    ) -> std::io::Result<bool> {
        let n = self.faults.bulk_loads.fetch_add(1, Ordering::SeqCst) + 1;
        if self.options.faults.drop_in_bulk_load == Some(n) {
            return Ok(false);
        }
        let Some(target) = session.bulk_target.take() else {
            tds::error(out.buf(), 4804, 1, 16, "A bulk load arrived without INSERT BULK naming its table.");
            tds::done(out.buf(), tds::DONE_ERROR, 0, 0);
            out.finish(s).await?;
            return Ok(true);
        };
        let stored = match self.db.bulk_table(session, &target) {
            None => Err(format!("Invalid object name '{target}'.")),
            Some(table) => crate::bulk::rows(body, &table).and_then(|batch| {
                let rows = batch.num_rows() as u64;
                self.db.append(session, &target, batch).map(|_| rows).map_err(|e| e.to_string())
            }),
        };
        match stored {
            Ok(rows) => {
                self.stats.bulk_rows.fetch_add(rows, Ordering::Relaxed);
                tds::done(out.buf(), tds::DONE_COUNT, 0, rows);
            }
            Err(e) => {
                tds::error(out.buf(), 4816, 1, 16, &format!("Bulk load into {target}: {e}"));
                tds::done(out.buf(), tds::DONE_ERROR, 0, 0);
            }
        }
        out.finish(s).await?;
        Ok(true)
    }

    /// Answers one request; `false` when the connection must be dropped.
    async fn answer<S: AsyncWrite + Unpin>(
        &self,
        sql: &str,
        session: &mut crate::db::Session,
        out: &mut Replier,
        s: &mut S,
    ) -> std::io::Result<bool> {
        if self.options.faults.no_snapshot && sql.to_ascii_uppercase().contains("ISOLATION LEVEL SNAPSHOT") {
            tds::error(
                out.buf(),
                3952,
                1,
                16,
                "Snapshot isolation transaction failed accessing database 'ssd' because snapshot isolation is not allowed in this database. Use ALTER DATABASE to allow snapshot isolation.",
            );
            tds::done(out.buf(), tds::DONE_ERROR, 0, 0);
            out.finish(s).await?;
            return Ok(true);
        }
        let outcomes = match self.db.run(session, sql).await {
            Ok(o) => o,
            Err(e) => {
                let number = match &e {
                    crate::db::DbError::Server { number, .. } => *number,
                    _ => 208,
                };
                let msg = e.to_string();
                tds::error(out.buf(), number, 1, 16, &msg);
                tds::done(out.buf(), tds::DONE_ERROR, 0, 0);
                out.finish(s).await?;
                return Ok(true);
            }
        };
        let n = outcomes.len();
        for (k, outcome) in outcomes.into_iter().enumerate() {
            let more = if k + 1 < n { tds::DONE_MORE } else { 0 };
            match outcome {
                Outcome::Done => tds::done(out.buf(), more, 0, 0),
                Outcome::Count(n) => tds::done(out.buf(), more | tds::DONE_COUNT, 0, n),
                Outcome::Transaction(event) => {
                    let (kind, descriptor) = match event {
                        TransactionEvent::Begin => (8, self.stats.transactions.fetch_add(1, Ordering::Relaxed) + 1),
                        TransactionEvent::Commit => (9, self.stats.transactions.load(Ordering::Relaxed)),
                        TransactionEvent::Rollback => (10, self.stats.transactions.load(Ordering::Relaxed)),
                    };
                    tds::transaction_change(out.buf(), kind, descriptor);
                    tds::done(out.buf(), more, 0, 0)
                }
                Outcome::Rows(mut rs) => {
                    if rs.reads_table {
                        if let Some(t) = self.options.faults.stall
                            && !self.faults.stalled.swap(true, Ordering::SeqCst)
                        {
                            tokio::time::sleep(t).await;
                        }
                        if let Some(number) = self.options.faults.error_once
                            && !self.faults.errored.swap(true, Ordering::SeqCst)
                        {
                            let msg = match number {
                                    1205 => "Transaction (Process ID 51) was deadlocked on lock resources with another process and has been chosen as the deadlock victim. Rerun the transaction.".to_string(),
                                    40613 => "Database 'ssd' on server 'mssql-standin' is not currently available. Please retry the connection later.".to_string(),
                                    n => format!("Injected error {n}."),
                                };
                            tds::error(out.buf(), number, 1, 13, &msg);
                            tds::done(out.buf(), tds::DONE_ERROR, 0xC1, 0);
                            out.finish(s).await?;
                            return Ok(true);
                        }
                    }
                    // COLMETADATA
                    let b = out.buf();
                    b.push(0x81);
                    b.extend((rs.columns.len() as u16).to_le_bytes());
                    for (name, t) in &rs.columns {
                        b.extend(0u32.to_le_bytes());
                        // Nullable, updateable unknown: as SQL Server describes a table's columns
                        // (a bulk load's client keeps only the updateable ones).
                        b.extend(0x0009u16.to_le_bytes());
                        t.type_info(b);
                        tds::b_varchar(b, name);
                    }
                    let mut rows = 0u64;
                    while let Some(batch) = rs.stream.next().await {
                        let batch = match batch {
                            Ok(b) => b,
                            Err(e) => {
                                tds::error(out.buf(), 50000, 1, 16, &e.strip_backtrace().to_string());
                                tds::done(out.buf(), tds::DONE_ERROR, 0xC1, rows);
                                out.finish(s).await?;
                                return Ok(true);
                            }
                        };
                        let arrays: Result<Vec<_>, String> =
                            rs.columns.iter().zip(batch.columns()).map(|((_, t), a)| t.conform(a)).collect();
                        let arrays = match arrays {
                            Ok(a) => a,
                            Err(e) => {
                                tds::error(out.buf(), 245, 1, 16, &e);
                                tds::done(out.buf(), tds::DONE_ERROR, 0xC1, rows);
                                out.finish(s).await?;
                                return Ok(true);
                            }
                        };
                        for i in 0..batch.num_rows() {
                            if rs.reads_table
                                && self.options.faults.drop_after_rows == Some(rows)
                                && !self.faults.dropped.swap(true, Ordering::SeqCst)
                            {
                                out.flush_full(s).await?;
                                return Ok(false);
                            }
                            let b = out.buf();
                            b.push(0xD1);
                            for ((_, t), a) in rs.columns.iter().zip(&arrays) {
                                if let Err(e) = t.encode(a, i, b) {
                                    tds::error(out.buf(), 8169, 1, 16, &e);
                                    return Ok(false);
                                }
                            }
                            rows += 1;
                            if out.buf().len() > 64 * 1024 {
                                out.flush_full(s).await?;
                            }
                        }
                    }
                    tds::done(out.buf(), tds::DONE_COUNT | more, 0xC1, rows);
                }
            }
        }
        out.finish(s).await?;
        Ok(true)
    }
}
