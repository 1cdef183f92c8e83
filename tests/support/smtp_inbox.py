"""A real SMTP server for the alert-email tests (aiosmtpd, from PyPI): every message it accepts is stored in
an inbox folder as NNNNNN.eml (the raw message as received) and NNNNNN.json (its envelope and the fields
the tests read, parsed with Python's email package). The .json file is written last, by rename, so a
message is in the inbox exactly when its .json is. Numbering continues over what the folder already holds,
so a server restarted on the same folder keeps the earlier mail.

Options: plain SMTP by default; --tls CERT KEY for implicit TLS; --starttls CERT KEY to offer STARTTLS and
require it before any mail; --login USER PASS to require AUTH (PLAIN or LOGIN, also without TLS);
--slow-first SECONDS to answer the first message's DATA only after that long. It prints
"listening on PORT" once it accepts connections, "DATA N" when the Nth DATA command of its life arrives, and
"accepted message N" once the Nth message is in the inbox.
"""

import argparse
import asyncio
import email
import email.policy
import json
import os
import ssl

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def addresses(header):
    if header is None:
        return []
    return [{"address": a.addr_spec, "name": a.display_name} for a in header.addresses]


def body(message, kind):
    """The decoded text of the message's `kind` part, with the wire's CRLF line ends read as LF."""
    part = message.get_body(preferencelist=(kind,))
    return None if part is None else part.get_content().replace("\r\n", "\n")


def parsed(raw, envelope):
    message = email.message_from_bytes(raw, policy=email.policy.default)
    return {
        "subject": message["subject"],
        "from": addresses(message["from"]),
        "to": addresses(message["to"]),
        "headers": {name.lower(): str(value) for name, value in message.items()},
        "text": body(message, "plain"),
        "html": body(message, "html"),
        "envelope": {"from": envelope.mail_from, "to": list(envelope.rcpt_tos)},
    }


class Inbox:
    def __init__(self, folder, slow_first):
        self.folder = folder
        self.slow_first = slow_first
        os.makedirs(folder, exist_ok=True)
        self.count = sum(1 for name in os.listdir(folder) if name.endswith(".json"))
        self.answered = 0

    def write(self, name, data):
        path = os.path.join(self.folder, name)
        with open(path + ".tmp", "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.rename(path + ".tmp", path)

    async def handle_DATA(self, server, session, envelope):
        self.answered += 1
        print(f"DATA {self.answered}", flush=True)
        if self.answered == 1 and self.slow_first > 0:
            await asyncio.sleep(self.slow_first)
        self.count += 1
        stem = f"{self.count:06d}"
        raw = envelope.original_content
        self.write(stem + ".eml", raw)
        self.write(stem + ".json", json.dumps(parsed(raw, envelope)).encode())
        print(f"accepted message {self.count}", flush=True)
        return "250 OK"


class Login:
    def __init__(self, user, password):
        self.user = user.encode()
        self.password = password.encode()

    def __call__(self, server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == self.user
            and auth_data.password == self.password
        )
        # handled=False: the server answers itself, 235 or its 535.
        return AuthResult(success=ok, handled=False)


def tls_context(cert, key):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--inbox", required=True)
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    parser.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"))
    parser.add_argument("--login", nargs=2, metavar=("USER", "PASS"))
    parser.add_argument("--slow-first", type=float, default=0.0)
    args = parser.parse_args()

    inbox = Inbox(args.inbox, args.slow_first)
    starttls = tls_context(*args.starttls) if args.starttls else None
    implicit = tls_context(*args.tls) if args.tls else None

    def factory():
        return SMTP(
            inbox,
            hostname="smtp-inbox.test",
            tls_context=starttls,
            require_starttls=starttls is not None,
            authenticator=Login(*args.login) if args.login else None,
            auth_required=args.login is not None,
            auth_require_tls=False,
        )

    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(
        loop.create_server(factory, host="127.0.0.1", port=args.port, ssl=implicit)
    )
    print(f"listening on {args.port}", flush=True)
    try:
        loop.run_forever()
    finally:
        server.close()


if __name__ == "__main__":
    main()
