"""Structured JSON logs: one object per line, each with the request id.

Used by ``LOGGING`` in the settings and by ``gunicorn.conf.py`` for the access log.
Money operations are logged from the engine's after-commit signals with wallet
uuids and amounts only: never holders' personal data, metadata or secrets.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from portal.ops.client_ip import NO_CLIENT, client_ip_var
from portal.ops.request_id import get_request_id

money_logger = logging.getLogger("portal.money")

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD_ATTRS = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", (), None)).keys()
    | {"message", "asctime", "request_id", "client_ip", "taskName"}
)

# gunicorn's access-log atoms (record.args) worth keeping as fields.
_ACCESS_FIELDS = {
    "h": "remote_addr",
    "m": "method",
    "U": "path",
    "q": "query",
    "s": "status",
    "B": "response_bytes",
    "M": "duration_ms",
    "a": "user_agent",
}


class RequestIdFilter(logging.Filter):
    """Adds ``record.request_id`` and ``record.client_ip`` (``-`` outside a request).

    The client's address is the one ``TrustedProxyMiddleware`` found behind our
    proxies, never the load balancer's.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = get_request_id()
        if not getattr(record, "client_ip", None):
            record.client_ip = client_ip_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object on one line."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or get_request_id(),
        }
        client_ip = getattr(record, "client_ip", None) or client_ip_var.get()
        if client_ip != NO_CLIENT:
            payload["client_ip"] = client_ip
        if isinstance(record.args, dict) and "s" in record.args:
            # A gunicorn access-log line: the request id is the response header we set.
            atoms = record.args
            request_id = atoms.get("{x-request-id}o")
            if request_id and request_id != "-":
                payload["request_id"] = request_id
            for atom, field in _ACCESS_FIELDS.items():
                if atom in atoms:
                    payload[field] = atoms[atom]
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and key not in payload:
                payload[key] = value
        if record.exc_info:
            payload["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            payload["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(payload, default=str, ensure_ascii=False)


def log_transaction_created(sender: type, transaction: Any, **kwargs: Any) -> None:
    wallet = transaction.wallet
    money_logger.info(
        "wallet transaction created",
        extra={
            "event": "transaction_created",
            "transaction_uuid": str(transaction.uuid),
            "wallet_uuid": str(wallet.uuid),
            "unit": wallet.unit,
            "type": transaction.type,
            "state": transaction.state,
            "amount": str(transaction.amount),
        },
    )


def log_operation_committed(
    sender: type, transactions: list[Any], transfers: list[Any], **kwargs: Any
) -> None:
    """One line per new transaction and per transfer of a committed operation."""
    if not money_logger.isEnabledFor(logging.INFO):
        return
    for transaction in transactions:
        log_transaction_created(sender, transaction)
    for transfer in transfers:
        log_transfer_completed(sender, transfer, transfer.from_wallet, transfer.to_wallet)


def log_transaction_confirmed(sender: type, transaction: Any, **kwargs: Any) -> None:
    money_logger.info(
        "wallet transaction confirmed",
        extra={
            "event": "transaction_confirmed",
            "transaction_uuid": str(transaction.uuid),
            "wallet_uuid": str(transaction.wallet.uuid),
            "type": transaction.type,
            "amount": str(transaction.amount),
        },
    )


def log_transfer_completed(
    sender: type, transfer: Any, from_wallet: Any, to_wallet: Any, **kwargs: Any
) -> None:
    money_logger.info(
        "wallet transfer completed",
        extra={
            "event": "transfer_completed",
            "transfer_uuid": str(transfer.uuid),
            "kind": transfer.kind,
            "from_wallet_uuid": str(from_wallet.uuid),
            "to_wallet_uuid": str(to_wallet.uuid),
            "amount": str(transfer.amount),
            "received": str(transfer.received),
            "from_unit": from_wallet.unit,
            "to_unit": to_wallet.unit,
        },
    )
