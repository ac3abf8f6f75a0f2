#!/usr/bin/env python3
"""Drives a meshwork oversight server as a person or a scraper would (stdlib only, plus
prometheus_client for `metrics`).

  oversight_client.py post URL GATE_ID --decision approve|reject [--token T] [--origin O] [--who W] [--reason R] [--csrf C]
      fetches /approvals, takes the gate form's CSRF token (unless --csrf), POSTs the decision
      without following redirects, prints "STATUS <code>" and the body's text.
  oversight_client.py metrics URL
      fetches /metrics, parses it with prometheus_client's text parser, prints one JSON object
      {family: [sample names]}.
  oversight_client.py browser URL TOKEN GATE_ID --who W --reason R
      headless Chromium over the DevTools protocol: opens URL/?token=TOKEN (the session cookie),
      the approvals page, fills the gate's form and clicks Approve; prints JSON with the page
      it landed on.
  oversight_client.py screens URL OUTDIR
      a PNG screenshot of every page into OUTDIR.
"""
import base64
import html.parser
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

PAGES = ["", "usecases", "approvals", "models", "monitoring", "report"]


class FormFinder(html.parser.HTMLParser):
    """Finds the hidden csrf input of the form whose action is /approvals/GATE."""

    def __init__(self, action):
        super().__init__()
        self.action = action
        self.inside = False
        self.csrf = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("action") == self.action
        elif tag == "input" and self.inside and attrs.get("name") == "csrf":
            self.csrf = attrs.get("value")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def post(args):
    url, gate = args[0], args[1]
    options = dict(zip(args[2::2], args[3::2]))
    csrf = options.get("--csrf")
    if csrf is None:
        page = urllib.request.urlopen(url + "/approvals", timeout=30).read().decode()
        finder = FormFinder("/approvals/" + gate)
        finder.feed(page)
        csrf = finder.csrf or ""
    fields = {"decision": options.get("--decision", "approve"), "who": options.get("--who", "tester"),
              "reason": options.get("--reason", "ok"), "csrf": csrf}
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if "--token" in options:
        headers["X-Meshwork-Token"] = options["--token"]
    if "--origin" in options:
        headers["Origin"] = options["--origin"]
    request = urllib.request.Request(url + "/approvals/" + gate, data=urllib.parse.urlencode(fields).encode(),
                                     headers=headers, method="POST")
    opener = urllib.request.build_opener(NoRedirect)
    try:
        response = opener.open(request, timeout=30)
        status, body = response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read().decode()
    print("STATUS", status)
    print(body)


def metrics(args):
    from prometheus_client.parser import text_string_to_metric_families
    text = urllib.request.urlopen(args[0] + "/metrics", timeout=30).read().decode()
    families = {}
    for family in text_string_to_metric_families(text):
        families[family.name] = sorted({sample.name for sample in family.samples})
    print(json.dumps(families, sort_keys=True))


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    sys.exit("SKIP: chromium is not installed")


def chromium_flags(profile):
    return ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--hide-scrollbars", "--user-data-dir=" + profile]


class WebSocket:
    """A minimal RFC 6455 client: text frames, enough for the DevTools protocol."""

    def __init__(self, url):
        parsed = urllib.parse.urlparse(url)
        self.sock = socket.create_connection((parsed.hostname, parsed.port), timeout=60)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {parsed.path} HTTP/1.1\r\nHost: {parsed.hostname}:{parsed.port}\r\n"
                           f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                raise RuntimeError("websocket closed during the handshake")
            head += chunk
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise RuntimeError("websocket handshake refused: " + head.decode(errors="replace"))
        self.next_id = 0

    def _read(self, count):
        data = b""
        while len(data) < count:
            chunk = self.sock.recv(count - len(data))
            if not chunk:
                raise RuntimeError("websocket closed")
            data += chunk
        return data

    def send(self, obj):
        payload = json.dumps(obj).encode()
        length = len(payload)
        header = bytes([0x81])
        if length < 126:
            header += bytes([0x80 | length])
        elif length < 65536:
            header += bytes([0x80 | 126]) + struct.pack(">H", length)
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", length)
        mask = os.urandom(4)
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def receive(self):
        message = b""
        while True:
            first, second = self._read(2)
            length = second & 0x7F
            if length == 126:
                length = struct.unpack(">H", self._read(2))[0]
            elif length == 127:
                length = struct.unpack(">Q", self._read(8))[0]
            payload = self._read(length)
            opcode = first & 0x0F
            if opcode == 0x8:
                raise RuntimeError("websocket closed by the browser")
            if opcode in (0x1, 0x0, 0x2):
                message += payload
                if first & 0x80:
                    return json.loads(message.decode())

    def call(self, method, params=None):
        self.next_id += 1
        self.send({"id": self.next_id, "method": method, "params": params or {}})
        while True:
            message = self.receive()
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        return result.get("result", {}).get("value")


def wait_for(predicate, what, seconds=120):
    deadline = time.time() + seconds
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise RuntimeError("timed out waiting for " + what)


def browser(args):
    url, token, gate = args[0], args[1], args[2]
    options = dict(zip(args[3::2], args[4::2]))
    binary = chromium()
    profile = tempfile.mkdtemp(prefix="meshwork-chromium-")
    process = subprocess.Popen([binary, *chromium_flags(profile), "--remote-debugging-port=0", "about:blank"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file = os.path.join(profile, "DevToolsActivePort")
        wait_for(lambda: os.path.exists(port_file) and open(port_file).read().count("\n") >= 1, "DevToolsActivePort")
        port = int(open(port_file).read().split("\n")[0])
        targets = wait_for(lambda: [t for t in json.loads(urllib.request.urlopen(
            f"http://127.0.0.1:{port}/json/list", timeout=10).read()) if t.get("type") == "page"], "a page target")
        page = WebSocket(targets[0]["webSocketDebuggerUrl"])
        page.call("Page.enable")

        def go(address):
            page.call("Page.navigate", {"url": address})
            wait_for(lambda: page.evaluate("document.readyState") == "complete"
                     and not page.evaluate("location.href").startswith("about:"), address)

        go(url + "/?token=" + token)           # sets the session cookie, redirects to /
        wait_for(lambda: page.evaluate("location.pathname") == "/", "the redirect to /")
        go(url + "/approvals")
        action = "/approvals/" + gate
        script = """(() => {
            const form = document.querySelector('form[action="%s"]');
            if (!form) return 'no form for the gate';
            form.querySelector('[name=who]').value = %s;
            form.querySelector('[name=reason]').value = %s;
            form.querySelector('button[value=approve]').click();
            return 'submitted';
        })()""" % (action, json.dumps(options.get("--who", "browser")), json.dumps(options.get("--reason", "ok")))
        outcome = page.evaluate(script)
        if outcome != "submitted":
            print(json.dumps({"error": outcome, "page": page.evaluate("document.body.innerText")}))
            sys.exit(1)
        landed = wait_for(lambda: "decided=" in (page.evaluate("location.href") or "") and
                          page.evaluate("document.readyState") == "complete" and page.evaluate("location.href"),
                          "the page after the decision")
        print(json.dumps({"landed": landed, "text": page.evaluate("document.body.innerText")}))
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(profile, ignore_errors=True)


def screens(args):
    url, directory = args[0], args[1]
    binary = chromium()
    os.makedirs(directory, exist_ok=True)
    for name in PAGES:
        profile = tempfile.mkdtemp(prefix="meshwork-chromium-")
        path = os.path.join(directory, (name or "mesh") + ".png")
        subprocess.run([binary, *chromium_flags(profile), "--window-size=1280,1600", "--screenshot=" + path, url + "/" + name],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120, check=False)
        shutil.rmtree(profile, ignore_errors=True)
        print(path if os.path.exists(path) else "missing " + path)


if __name__ == "__main__":
    commands = {"post": post, "metrics": metrics, "browser": browser, "screens": screens}
    if len(sys.argv) < 3 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    commands[sys.argv[1]](sys.argv[2:])
