"""A logged-in user sending money through the real forms, as a browser would.

Each transfer is the form (GET), the review step (POST) and the confirmation
(POST) with the form's own idempotency key. An answer that leaves the outcome
unknown (a 5xx, a reset connection, a timeout) is retried with the very same
form, which the portal promises is safe; a refusal (a 4xx) is final.
"""

from __future__ import annotations

import html
import http.client
import re
import threading
import time
import urllib.parse
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from http.cookies import SimpleCookie

REQUEST_TIMEOUT = 35.0  # longer than gunicorn's 30 s: its timeout, not ours, shows
RETRY_PAUSE = 0.25
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')
_CONFIRM_FORM = re.compile(r'<form method="post" action="/transfer/confirm/".*?</form>', re.DOTALL)
_NAMED_VALUE = r'name="{}"[^>]*value="([^"]*)"'


class Unanswered(Exception):
    """No HTTP answer: the connection failed, was reset or timed out."""


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: str

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")


@dataclass
class Recorder:
    """Latencies and statuses of every request, from every thread."""

    started: float = field(default_factory=time.monotonic)
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, step: str, status: str, seconds: float) -> None:
        with self.lock:
            self.latencies[step].append(seconds)
            self.statuses[(step, status)] += 1


@dataclass
class Outcome:
    key: str
    note: str
    amount: str
    result: str  # "ok", "refused" or "unknown"
    transfer: str = ""
    attempts: int = 0
    detail: str = ""


class Browser:
    """Keeps its own cookies (they are Secure-only) and sends its own client address."""

    def __init__(self, port: int, client_ip: str, recorder: Recorder) -> None:
        self.port = port
        self.origin = f"http://127.0.0.1:{port}"
        self.client_ip = client_ip
        self.recorder = recorder
        self.cookies: dict[str, str] = {}

    def request(self, step: str, method: str, path: str, form: dict | None = None) -> Answer:
        headers = {"Host": f"127.0.0.1:{self.port}", "X-Forwarded-For": self.client_ip}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = self.origin
            headers["Referer"] = self.origin + path
        started = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            content = response.read().decode("utf-8", "replace")
        except TimeoutError:
            self.recorder.record(step, "timeout", time.monotonic() - started)
            raise Unanswered("timeout") from None
        except (OSError, http.client.HTTPException) as error:
            self.recorder.record(step, "no answer", time.monotonic() - started)
            raise Unanswered(type(error).__name__) from None
        finally:
            conn.close()
        self.recorder.record(step, str(response.status), time.monotonic() - started)
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return Answer(response.status, response.headers, content)

    def until_answered(self, step: str, method: str, path: str, form=None, *, deadline: float):
        """Repeat a request with no money at stake until it gets a non-5xx answer."""
        while True:
            try:
                answer = self.request(step, method, path, form)
                if answer.status < 500:
                    return answer
            except Unanswered:
                pass
            if time.monotonic() > deadline:
                return None
            time.sleep(RETRY_PAUSE)

    def log_in(self, email: str, password: str, deadline: float) -> bool:
        page = self.until_answered("login form", "GET", "/accounts/login/", deadline=deadline)
        if page is None:
            return False
        form = {"csrfmiddlewaretoken": value_of(page.body, "csrfmiddlewaretoken"), "login": email}
        form["password"] = password
        answer = self.until_answered("login", "POST", "/accounts/login/", form, deadline=deadline)
        return answer is not None and answer.status == 302


def value_of(page: str, name: str) -> str:
    match = re.search(_NAMED_VALUE.format(re.escape(name)), page)
    return html.unescape(match.group(1)) if match else ""


def send_money(
    browser: Browser, source: int, recipient: str, amount: str, deadline: float, grace: float
) -> Outcome | None:
    """One transfer through form, review and confirm; None if it never got to confirm."""
    page = browser.until_answered("transfer form", "GET", "/transfer/", deadline=deadline)
    if page is None or page.status != 200:
        return None
    key = value_of(page.body, "idempotency_key")
    note = f"chaos {key}"
    form = {
        "csrfmiddlewaretoken": value_of(page.body, "csrfmiddlewaretoken"),
        "idempotency_key": key,
        "source": str(source),
        "recipient": recipient,
        "amount": amount,
        "note": note,
    }
    review = browser.until_answered("review", "POST", "/transfer/", form, deadline=deadline)
    if review is None or review.status != 200:
        return None
    confirm_form = _CONFIRM_FORM.search(review.body)
    if confirm_form is None:
        return None
    fields = {name: html.unescape(value) for name, value in _HIDDEN.findall(confirm_form.group())}
    return confirm(browser, fields, Outcome(key, note, amount, "unknown"), deadline + grace)


def confirm(browser: Browser, fields: dict, outcome: Outcome, give_up_at: float) -> Outcome:
    """POST the confirmation until its outcome is known: the same form every time."""
    while True:
        outcome.attempts += 1
        try:
            answer = browser.request("confirm", "POST", "/transfer/confirm/", fields)
        except Unanswered as error:
            outcome.detail = str(error)
        else:
            if answer.status == 302 and answer.location.startswith("/transfers/"):
                outcome.result, outcome.transfer = "ok", answer.location.split("/")[2]
                return outcome
            if answer.status < 500:
                outcome.result, outcome.detail = "refused", str(answer.status)
                return outcome
            outcome.detail = str(answer.status)
        if time.monotonic() > give_up_at:
            return outcome  # still "unknown": the checks count whether it committed
        time.sleep(RETRY_PAUSE)
