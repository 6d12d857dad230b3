"""A real SMTP server for the tests (aiosmtpd, Debian's python3-aiosmtpd): STARTTLS required,
AUTH PLAIN/LOGIN required after it, one login accepted; each mail taken is written as JSON to a
directory (envelope, whether the session was under TLS, who logged in, the raw message).

usage: smtp_receiver.py PORT CERT_PEM KEY_PEM USER PASSWORD OUT_DIR
It prints "ready" once it listens, and stops when its standard input closes.
"""
import json
import os
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

port, cert, key, user, password, out = sys.argv[1:7]
os.makedirs(out, exist_ok=True)


class Keep:
    count = 0

    async def handle_DATA(self, server, session, envelope):
        Keep.count += 1
        doc = {
            "from": envelope.mail_from,
            "to": list(envelope.rcpt_tos),
            "tls": session.ssl is not None,
            "login": session.auth_data.decode() if isinstance(session.auth_data, bytes) else session.auth_data,
            "data": envelope.original_content.decode("utf-8", "replace"),
        }
        tmp = os.path.join(out, ".%d.tmp" % Keep.count)
        with open(tmp, "w") as f:
            json.dump(doc, f)
        os.rename(tmp, os.path.join(out, "%04d.json" % Keep.count))
        return "250 OK kept"


def check(server, session, envelope, mechanism, auth_data):
    if isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user and auth_data.password.decode() == password:
        return AuthResult(success=True, auth_data=auth_data.login)
    return AuthResult(success=False, handled=False)


context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
context.load_cert_chain(cert, key)
controller = Controller(Keep(), hostname="127.0.0.1", port=int(port), tls_context=context, require_starttls=True,
                        authenticator=check, auth_required=True, auth_require_tls=True)
controller.start()
print("ready", flush=True)
try:
    sys.stdin.read()
finally:
    controller.stop()
