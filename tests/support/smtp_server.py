"""A real SMTP server on loopback for the end-to-end tests (aiosmtpd, from PyPI).

It speaks plain SMTP, STARTTLS or implicit TLS, can require AUTH, and can misbehave the way
mail relays do: refuse a recipient, or drop the connection in the middle of a message. Each
event is one JSON line in --log, each accepted message one .eml file in --mail-dir, so a
test reads what really crossed the wire.

    python3 smtp_server.py --port 2525 --log events.jsonl --mail-dir mail \
        [--tls none|starttls|implicit --cert cert.pem --key key.pem] [--auth user:password] \
        [--refuse-rcpt 550] [--drop-first N] [--stall]
"""

import argparse
import warnings
import asyncio
import json
import pathlib
import signal
import ssl
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

# AUTH without STARTTLS is fine over implicit TLS, which aiosmtpd cannot tell apart.
warnings.simplefilter("ignore")

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--log", required=True)
parser.add_argument("--mail-dir", required=True)
parser.add_argument("--tls", choices=["none", "starttls", "implicit"], default="none")
parser.add_argument("--cert")
parser.add_argument("--key")
parser.add_argument("--auth", help="user:password that AUTH must present")
parser.add_argument("--refuse-rcpt", help="reply code refusing every recipient, 550 or 451")
parser.add_argument("--drop-first", type=int, default=0, help="drop the connection in DATA this many times")
parser.add_argument("--stall", action="store_true", help="accept connections and never answer")
args = parser.parse_args()

lock = threading.Lock()
mail_dir = pathlib.Path(args.mail_dir)
mail_dir.mkdir(parents=True, exist_ok=True)
drops_left = args.drop_first
received = 0


def log(**event):
    with lock, open(args.log, "a", encoding="utf-8") as f:
        f.write(json.dumps(event) + "\n")


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = False
    login = None
    if isinstance(auth_data, LoginPassword) and args.auth:
        user, password = args.auth.split(":", 1)
        login = auth_data.login.decode()
        ok = login == user and auth_data.password.decode() == password
    # Never the password itself, even in a test log.
    log(event="auth", mechanism=mechanism, login=login, ok=ok)
    return AuthResult(success=True, auth_data=login) if ok else AuthResult(success=False, handled=False)


def encrypted(server, session):
    # STARTTLS sets session.ssl; with implicit TLS the transport itself is TLS.
    return session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None


class Handler:
    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        log(event="ehlo", tls=encrypted(server, session))
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if args.refuse_rcpt:
            log(event="refused", rcpt=address, code=args.refuse_rcpt)
            return f"{args.refuse_rcpt} mailbox unavailable (refused by the test server)"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        global drops_left, received
        with lock:
            drop = drops_left > 0
            if drop:
                drops_left -= 1
        if drop:
            log(event="dropped")
            server.transport.abort()
            return "421 closing"
        with lock:
            received += 1
            n = received
        path = mail_dir / f"{n:03}.eml"
        path.write_bytes(envelope.original_content or envelope.content)
        log(
            event="message",
            file=str(path),
            tls=encrypted(server, session),
            login=session.auth_data if session.authenticated else None,
            authenticated=bool(session.authenticated),
            mail_from=envelope.mail_from,
            rcpt_tos=envelope.rcpt_tos,
        )
        return "250 Message accepted for delivery"


def tls_context():
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(args.cert, args.key)
    return ctx


if args.stall:
    # A relay that accepts the connection and then says nothing at all.
    import socket

    listener = socket.create_server(("127.0.0.1", args.port))
    held = []

    def hold():
        while True:
            conn, _ = listener.accept()
            held.append(conn)
            log(event="stalled")

    threading.Thread(target=hold, daemon=True).start()
    log(event="ready")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    raise SystemExit(0)

smtp_kwargs = {"decode_data": False}
if args.auth:
    smtp_kwargs.update(authenticator=authenticator, auth_required=True, auth_require_tls=args.tls == "starttls")
controller_kwargs = {}
if args.tls == "starttls":
    smtp_kwargs.update(tls_context=tls_context(), require_starttls=True)
elif args.tls == "implicit":
    controller_kwargs.update(ssl_context=tls_context())

controller = Controller(
    Handler(), hostname="127.0.0.1", port=args.port, **controller_kwargs, **smtp_kwargs
)
controller.start()
log(event="ready")
print("ready", flush=True)

stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stop.set())
signal.signal(signal.SIGINT, lambda *_: stop.set())
stop.wait()
controller.stop()
