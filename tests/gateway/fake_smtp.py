"""A strict local SMTP server for tests (the edge of the world): speaks enough RFC 5321 for ``smtplib`` —
EHLO/HELO, MAIL, RCPT, DATA (dot-unstuffed), RSET, NOOP, QUIT — keeps every accepted message, and refuses
commands out of order (503) and recipients in ``refused`` (550), so error paths really run."""

from __future__ import annotations

import socketserver
import threading
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: Message


@dataclass
class FakeSmtp:
    host: str
    port: int
    messages: list[Received] = field(default_factory=list)
    refused: set[str] = field(default_factory=set)


def _address(argument: str) -> str:
    return argument.split(":", 1)[1].strip().strip("<>").split(" ")[0].rstrip(">")


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def _reply(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())

    def handle(self) -> None:
        self._reply("220 fake-smtp ready")
        greeted, sender = False, None
        recipients: list[str] = []
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            line = raw.decode().rstrip("\r\n")
            verb = line[:4].upper()
            if verb in ("EHLO", "HELO"):
                greeted = True
                self._reply("250 fake-smtp")
            elif verb == "MAIL" and greeted:
                sender, recipients = _address(line), []
                self._reply("250 OK")
            elif verb == "RCPT" and sender is not None:
                address = _address(line)
                if address in self.server.fake.refused:
                    self._reply(f"550 mailbox {address} unavailable")
                    continue
                recipients.append(address)
                self._reply("250 OK")
            elif verb == "DATA" and recipients:
                self._reply("354 end with <CRLF>.<CRLF>")
                body = bytearray()
                while True:
                    chunk = self.rfile.readline()
                    if chunk in (b".\r\n", b""):
                        break
                    body += chunk[1:] if chunk.startswith(b"..") else chunk
                assert sender is not None
                self.server.fake.messages.append(
                    Received(sender, recipients, message_from_bytes(bytes(body)))
                )
                sender, recipients = None, []
                self._reply("250 queued")
            elif verb == "RSET":
                sender, recipients = None, []
                self._reply("250 OK")
            elif verb == "NOOP":
                self._reply("250 OK")
            elif verb == "QUIT":
                self._reply("221 bye")
                return
            else:
                self._reply("503 bad sequence of commands")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    fake: FakeSmtp


def start_fake_smtp() -> tuple[FakeSmtp, _Server]:
    """A running fake on a free local port; call ``server.shutdown()`` when done."""
    server = _Server(("127.0.0.1", 0), _Handler)
    host, port = server.server_address[:2]
    server.fake = FakeSmtp(str(host), int(port))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.fake, server
