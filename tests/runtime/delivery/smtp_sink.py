"""An aiosmtpd handler for the smtp provider's tests.

Started by the tests as
    /usr/bin/python3 -m aiosmtpd -n -l 127.0.0.1:PORT -c smtp_sink.Sink OUT_DIR [USER PASSWORD]
with this folder on PYTHONPATH. Each message received becomes OUT_DIR/NNNNNN.json,
parsed by Python's own email package (an independent reader of what Trellis
built): envelope, headers with RFC 2047 words decoded, the body decoded, and
the user that authenticated. With USER and PASSWORD, AUTH is required and
checked (aiosmtpd offers AUTH only after STARTTLS).
"""
import email
import email.policy
import json
import os

from aiosmtpd.smtp import AuthResult, LoginPassword


class Sink:
    def __init__(self, out_dir, user=None, password=None):
        self.out_dir = out_dir
        self.user = user
        self.password = password
        self.count = 0

    @classmethod
    def from_cli(cls, parser, *args):
        return cls(*args)

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword)
              and auth_data.login.decode() == self.user
              and auth_data.password.decode() == self.password)
        return AuthResult(success=ok, auth_data=auth_data.login.decode() if ok else None)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if self.user is not None:
            server._authenticator = self.authenticate
            server._auth_required = True
        return responses

    async def handle_DATA(self, server, session, envelope):
        if self.user is not None and not session.authenticated:
            return "530 5.7.0 Authentication required"
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "from": str(message["From"]),
            "to": str(message["To"]),
            "subject": str(message["Subject"]),
            "raw_subject": envelope.original_content.decode("ascii", "replace")
                .split("Subject: ", 1)[1].split("\r\nDate:", 1)[0],
            "message_id": str(message["Message-ID"]),
            "date": str(message["Date"]),
            "content_type": message.get_content_type(),
            "charset": message.get_content_charset(),
            "body": message.get_content(),
            "auth_user": session.auth_data if self.user is not None else None,
            "tls": session.ssl is not None,
        }
        self.count += 1
        path = os.path.join(self.out_dir, "%06d.json" % self.count)
        with open(path + ".tmp", "w") as out:
            json.dump(record, out)
        os.rename(path + ".tmp", path)
        return "250 2.0.0 OK"
