#!/usr/bin/env python3
"""A Meshwork agent in Python: joins a live mesh as one more instance of a role and does relay work.

Written from docs/WIRE.md alone (stdlib + pyzmq). It connects to the coordinator's forwarder,
says hello until welcomed, keeps the session alive with heartbeats, runs the reliable stream to
the coordinator (sequence numbers, cumulative acks, retransmits, dedup) and takes part in the
contract net: it bids on calls for proposals of work it can do (`relay.hash`), accepts awards,
returns results and keeps each result until the coordinator acknowledges it. It exits on the
coordinator's `shutdown` (status 0), on SIGINT/SIGTERM (0), or when it cannot join within
--join-timeout (rejoin within --rejoin-timeout) or runs past --max-seconds (status 3), and prints
a JSON line of counts last.

    python3 meshwork_agent.py --endpoint ipc:///tmp/mesh/x --id monitoring-9 --role monitoring
    python3 meshwork_agent.py --endpoint tcp://10.0.0.1:5555 --id monitoring-9 --role monitoring \
        --secret-key keys/monitoring-9.key --server-key keys/coordinator.pub      # CURVE over tcp
"""

import argparse
import collections
import hashlib
import json
import os
import re
import signal
import socket
import struct
import sys
import time

import zmq

# --- Wire constants (docs/WIRE.md, "Envelope" and "Kinds") -------------------------------------

WIRE_VERSION = 1
HELLO, WELCOME, HEARTBEAT, EVICTED, GOODBYE, ACK, SHUTDOWN = 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07
CALL_FOR_PROPOSALS, BID, DECLINE, AWARD, ACCEPT, REFUSE, RESULT, RESULT_ACK = range(0x10, 0x18)
BLOB_REQUEST, BLOB_CHUNK, BLOB_MISSING = 0x20, 0x21, 0x22
KNOWN_KINDS = {HELLO, WELCOME, HEARTBEAT, EVICTED, GOODBYE, ACK, SHUTDOWN,
               *range(0x10, 0x18), BLOB_REQUEST, BLOB_CHUNK, BLOB_MISSING}

FLAG_SEQUENCED = 0x1
FLAG_ACKNOWLEDGES = 0x2

ROLES = {"usecase": 1, "data": 2, "model": 3, "pipeline": 4, "monitoring": 5, "compute": 6, "oversight": 7}

# version, kind, flags, body length, sender inc., receiver inc., sequence, ack, sim time,
# sender length, receiver length, reserved: 52 bytes, little-endian.
HEADER = struct.Struct("<BBHIQQQQQBBH")
assert HEADER.size == 52
MAX_ENVELOPE = 8 * 1024 * 1024
MAX_BODY = MAX_ENVELOPE - 196
COORDINATOR = "coordinator"
COORDINATOR_TOPIC = "a/coordinator/"

# The work this agent can do: the relay workflow's stage (RelayWork.output in the Swift sources).
RELAY_WORK = "relay.hash"


# Frame 2 starting with this byte is a batch of envelopes for frame 1's topic (docs/WIRE.md, "Frames").
BATCH_MARKER = 0xFF


class WireError(Exception):
    """A message that does not decode; it is counted and dropped, never fatal."""


# --- Envelope ---------------------------------------------------------------------------------

class Envelope:
    """One envelope: the fixed header, sender id, receiver topic and body."""

    __slots__ = ("kind", "flags", "sender_incarnation", "receiver_incarnation", "sequence", "ack",
                 "sim_time", "sender", "receiver", "body")

    def __init__(self, kind, sender, receiver, body=b"", sender_incarnation=0, receiver_incarnation=0,
                 flags=0, sequence=0, ack=0, sim_time=0):
        self.kind = kind
        self.flags = flags
        self.sender_incarnation = sender_incarnation
        self.receiver_incarnation = receiver_incarnation
        self.sequence = sequence
        self.ack = ack
        self.sim_time = sim_time
        self.sender = sender
        self.receiver = receiver
        self.body = bytes(body)

    def encode(self):
        sender = self.sender.encode("ascii")
        receiver = self.receiver.encode("ascii")
        header = HEADER.pack(WIRE_VERSION, self.kind, self.flags, len(self.body), self.sender_incarnation,
                             self.receiver_incarnation, self.sequence, self.ack, self.sim_time,
                             len(sender), len(receiver), 0)
        return header + sender + receiver + self.body

    @staticmethod
    def decode(payload):
        if len(payload) < HEADER.size:
            raise WireError(f"truncated: {len(payload)} bytes, the header needs {HEADER.size}")
        (version, kind, flags, body_length, sender_inc, receiver_inc, sequence, ack, sim_time,
         sender_length, receiver_length, reserved) = HEADER.unpack_from(payload)
        if version != WIRE_VERSION:
            raise WireError(f"unknownVersion {version}")
        if kind not in KNOWN_KINDS:
            raise WireError(f"unknownKind 0x{kind:02x}")
        if flags & ~(FLAG_SEQUENCED | FLAG_ACKNOWLEDGES) or reserved != 0:
            raise WireError("reserved flag bits or bytes set")
        if body_length > MAX_BODY or not 1 <= sender_length <= 64 or not 2 <= receiver_length <= 80:
            raise WireError("a length out of range")
        total = HEADER.size + sender_length + receiver_length + body_length
        if len(payload) != total:
            raise WireError(f"{'truncated' if len(payload) < total else 'trailingBytes'}: "
                            f"{len(payload)} bytes, the header says {total}")
        start = HEADER.size
        sender = payload[start:start + sender_length].decode("ascii")
        receiver = payload[start + sender_length:start + sender_length + receiver_length].decode("ascii")
        if not receiver.endswith("/"):
            raise WireError("the receiver topic does not end in /")
        body = payload[start + sender_length + receiver_length:]
        return Envelope(kind, sender, receiver, body, sender_inc, receiver_inc, flags, sequence, ack, sim_time)


def split_batch(payload):
    """The envelopes of frame 2 (docs/WIRE.md, "Frames"): the frame itself, or the parts of a batch
    (0xFF, then per part a u32 little-endian length of at least 1 and its bytes)."""
    if not payload or payload[0] != BATCH_MARKER:
        return [payload]
    parts = []
    offset = 1
    while offset < len(payload):
        if offset + 4 > len(payload):
            raise WireError(f"batch: a part length needs 4 bytes at offset {offset}")
        (length,) = struct.unpack_from("<I", payload, offset)
        offset += 4
        if length == 0 or offset + length > len(payload):
            raise WireError(f"batch: a part of {length} bytes at offset {offset} of {len(payload)}")
        parts.append(payload[offset:offset + length])
        offset += length
    if not parts:
        raise WireError("batch: no part")
    return parts


# --- Body fields (docs/WIRE.md, "Body fields") ----------------------------------------------

class Reader:
    """Reads body fields in order; every length is bounded before anything is taken."""

    def __init__(self, data):
        self.data = data
        self.offset = 0

    def _take(self, count, field):
        if self.offset + count > len(self.data):
            raise WireError(f"{field}: needs {count} bytes at offset {self.offset}, "
                            f"{len(self.data) - self.offset} left")
        chunk = self.data[self.offset:self.offset + count]
        self.offset += count
        return chunk

    def u8(self, field):
        return self._take(1, field)[0]

    def u16(self, field):
        return struct.unpack("<H", self._take(2, field))[0]

    def u32(self, field):
        return struct.unpack("<I", self._take(4, field))[0]

    def u64(self, field):
        return struct.unpack("<Q", self._take(8, field))[0]

    def string(self, field, max_length=4096):
        length = self.u16(field)
        if length > max_length:
            raise WireError(f"{field}: {length} bytes, at most {max_length}")
        return self._take(length, field).decode("utf-8")

    def bytes_field(self, field, max_length=MAX_BODY):
        length = self.u32(field)
        if length > max_length:
            raise WireError(f"{field}: {length} bytes, at most {max_length}")
        return self._take(length, field)

    def task(self, field):
        task = self.string(field, 128)
        if not task or not all(0x21 <= ord(c) <= 0x7E for c in task):
            raise WireError(f"{field}: not a task id: {task!r}")
        return task

    def pairs(self, field):
        count = self.u16(field)
        if count > 64:
            raise WireError(f"{field}: {count} pairs, at most 64")
        result, previous = {}, None
        for _ in range(count):
            key = self.string(field + ".key", 256)
            value = self.string(field + ".value", 1024)
            if previous is not None and key.encode() <= previous.encode():
                raise WireError(f"{field}: keys not ascending or repeated")
            result[key], previous = value, key
        return result

    def end(self, what):
        if self.offset != len(self.data):
            raise WireError(f"{what}: {len(self.data) - self.offset} trailing bytes")


def w_u8(value):
    return struct.pack("<B", value)


def w_u32(value):
    return struct.pack("<I", value)


def w_u64(value):
    return struct.pack("<Q", value)


def w_string(value):
    data = value.encode("utf-8")
    return struct.pack("<H", len(data)) + data


def w_bytes(value):
    return struct.pack("<I", len(value)) + value


def w_pairs(pairs):
    items = sorted(pairs.items(), key=lambda item: item[0].encode())
    return struct.pack("<H", len(items)) + b"".join(w_string(k) + w_string(v) for k, v in items)


# --- The reliable stream (docs/WIRE.md, "Reliable streams") ---------------------------------

class Unreachable(Exception):
    """The coordinator acknowledged nothing for too many retransmit timeouts."""


class ReliableLink:
    """One stream between this agent's incarnation and one coordinator incarnation."""

    INITIAL_TIMEOUT, MAX_TIMEOUT, MAX_ATTEMPTS = 0.2, 2.0, 8
    RECEIVE_WINDOW, ACK_DELAY, ACK_EVERY = 65536, 0.005, 128

    def __init__(self, local, local_incarnation, peer_incarnation):
        self.local = local
        self.local_incarnation = local_incarnation
        self.peer_incarnation = peer_incarnation
        self.next_sequence = 1
        self.unacked = collections.deque()  # Envelopes sent and not yet acknowledged, in order.
        self.timeout = self.INITIAL_TIMEOUT
        self.attempts = 0
        self.retransmit_at = None
        self.received = 0  # Highest contiguous sequence number received.
        self.received_ahead = set()
        self.acks_owed = 0
        self.ack_at = None
        self.retransmitted = 0
        self.duplicates = 0

    def send(self, kind, body, sim_time, now):
        """Numbers a message of the stream; returns the envelope to put on the wire."""
        envelope = Envelope(kind, self.local, COORDINATOR_TOPIC, body, self.local_incarnation,
                            self.peer_incarnation, FLAG_SEQUENCED, self.next_sequence, sim_time=sim_time)
        self.next_sequence += 1
        self.stamp_ack(envelope)
        self.unacked.append(envelope)
        if self.retransmit_at is None:
            self.retransmit_at = now + self.timeout
        return envelope

    def stamp_ack(self, envelope):
        """Piggybacks the cumulative ack on an outgoing envelope."""
        if self.received > 0:
            envelope.flags |= FLAG_ACKNOWLEDGES
            envelope.ack = self.received
            self.acks_owed = 0
            self.ack_at = None

    def receive(self, envelope, now):
        """Takes the ack field; returns the envelope when it is a sequenced message seen for the first time."""
        if envelope.flags & FLAG_ACKNOWLEDGES:
            self._acknowledge(envelope.ack, now)
        if not envelope.flags & FLAG_SEQUENCED:
            return None
        sequence = envelope.sequence
        if sequence == 0 or sequence <= self.received or sequence in self.received_ahead:
            self.duplicates += 1
            self.ack_at = now  # The peer retransmitted, so our ack may have been lost: ack at once.
            return None
        if sequence > self.received + self.RECEIVE_WINDOW:
            return None
        if sequence == self.received + 1:
            self.received = sequence
            while self.received + 1 in self.received_ahead:
                self.received_ahead.remove(self.received + 1)
                self.received += 1
        else:
            self.received_ahead.add(sequence)
        self.acks_owed += 1
        if self.acks_owed >= self.ACK_EVERY:
            self.ack_at = now
        elif self.ack_at is None:
            self.ack_at = now + self.ACK_DELAY
        return envelope

    def tick(self, now):
        """Returns what to put on the wire now: retransmissions and an owed standalone ack."""
        out = []
        if self.retransmit_at is not None and self.retransmit_at <= now:
            self.attempts += 1
            if self.attempts > self.MAX_ATTEMPTS:
                raise Unreachable(f"{len(self.unacked)} messages unacknowledged after {self.MAX_ATTEMPTS} timeouts")
            for envelope in self.unacked:
                self.stamp_ack(envelope)
                out.append(envelope)
                self.retransmitted += 1
            self.timeout = min(self.timeout * 2, self.MAX_TIMEOUT)
            self.retransmit_at = now + self.timeout
        if self.ack_at is not None and self.ack_at <= now:
            ack = Envelope(ACK, self.local, COORDINATOR_TOPIC, b"", self.local_incarnation, self.peer_incarnation)
            self.stamp_ack(ack)
            out.append(ack)
        return out

    def next_deadline(self):
        deadlines = [d for d in (self.retransmit_at, self.ack_at) if d is not None]
        return min(deadlines) if deadlines else None

    def _acknowledge(self, ack, now):
        progressed = False
        while self.unacked and self.unacked[0].sequence <= ack:
            self.unacked.popleft()
            progressed = True
        if progressed:
            self.attempts = 0
            self.timeout = self.INITIAL_TIMEOUT
            self.retransmit_at = now + self.timeout if self.unacked else None


# --- The agent --------------------------------------------------------------------------------

def derived_endpoints(address):
    """The forwarder's XSUB (publishers connect) and XPUB (subscribers connect) endpoints:
    ADDRESS.in and ADDRESS.out for ipc://, PORT and PORT+1 for tcp://HOST:PORT."""
    if address.startswith("ipc://") or address.startswith("inproc://"):
        return address + ".in", address + ".out"
    if address.startswith("tcp://"):
        host, _, port = address[len("tcp://"):].rpartition(":")
        if not host or not port.isdigit() or not 1 <= int(port) <= 65534:
            raise SystemExit(f"meshwork_agent.py: not a tcp mesh address: {address!r} (expected tcp://HOST:PORT)")
        return f"tcp://{host}:{port}", f"tcp://{host}:{int(port) + 1}"
    raise SystemExit(f"meshwork_agent.py: not a mesh address: {address!r} (expected ipc://PATH or tcp://HOST:PORT)")


# --- CURVE keys (docs/MULTI-HOST.md, "Keys") ---------------------------------------------------

Z85_ALPHABET = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#")


def is_key(text):
    """Whether text is a Z85-encoded 32-byte CURVE key: 40 characters of the Z85 alphabet."""
    return len(text) == 40 and all(c in Z85_ALPHABET for c in text)


def read_secret_key(path):
    """(id, public, secret) from a `meshwork keys generate` .key file, which only its owner may read."""
    try:
        mode = os.stat(path).st_mode
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as error:
        raise SystemExit(f"meshwork_agent.py: --secret-key {path}: cannot read: {error.strerror}")
    if mode & 0o077:
        raise SystemExit(f"meshwork_agent.py: --secret-key {path}: readable by others (mode {mode & 0o777:o}); chmod 600 it")
    fields = dict(re.findall(r'^(id|public|secret):\s*"?([^"\s]+)"?\s*$', text, re.MULTILINE))
    secret, public = fields.get("secret", ""), fields.get("public", "")
    if not (is_key(secret) and is_key(public)) or zmq.curve_public(secret.encode()).decode() != public:
        raise SystemExit(f"meshwork_agent.py: --secret-key {path}: not a meshwork key file (id, public and secret keys)")
    return fields.get("id", ""), public, secret


def read_public_key(text):
    """A public key given as itself or as a .pub file with one `ID: { role: R, key: "KEY" }` line."""
    if is_key(text):
        return text
    try:
        with open(text, encoding="utf-8") as handle:
            keys = re.findall(r'key:\s*"([^"]+)"', handle.read())
    except OSError as error:
        raise SystemExit(f"meshwork_agent.py: --server-key {text}: neither a key nor a readable file ({error.strerror})")
    if len(keys) != 1 or not is_key(keys[0]):
        raise SystemExit(f"meshwork_agent.py: --server-key {text}: expected one public key (a .pub file)")
    return keys[0]


def curve_keys(args):
    """(public, secret, server) for a tcp:// mesh, None for ipc://; tcp:// is never plaintext."""
    if not args.endpoint.startswith("tcp://"):
        return None
    if not (args.secret_key and args.server_key):
        raise SystemExit("meshwork_agent.py: tcp:// meshes need CURVE keys: --secret-key (its public key in the "
                         "coordinator's roster) and --server-key (docs/WIRE.md, Security)")
    if not zmq.has("curve"):
        raise SystemExit("meshwork_agent.py: this pyzmq's libzmq has no CURVE support (zmq.has('curve') is False)")
    key_id, public, secret = read_secret_key(args.secret_key)
    if key_id != args.id:
        raise SystemExit(f"meshwork_agent.py: --secret-key {args.secret_key}: the key is {key_id}'s, this agent is {args.id}")
    return public, secret, read_public_key(args.server_key)


class PythonAgent:
    """The session, the stream and the contractor of one agent, driven by one poll loop."""

    def __init__(self, args):
        self.id = args.id
        self.role = args.role
        self.capacity = args.capacity
        self.join_timeout = args.join_timeout
        self.rejoin_timeout = args.rejoin_timeout
        self.deadline = time.monotonic() + args.max_seconds
        self.verbose = args.verbose
        self.incarnation = time.time_ns() // 1000  # Microseconds of wall time: a restart is always newer.

        self.context = zmq.Context()
        pub_endpoint, sub_endpoint = derived_endpoints(args.endpoint)
        self.pub = self.context.socket(zmq.PUB)
        self.pub.setsockopt(zmq.SNDHWM, 100_000)
        self.pub.setsockopt(zmq.LINGER, 2000)
        self.sub = self.context.socket(zmq.SUB)
        self.sub.setsockopt(zmq.RCVHWM, 100_000)
        self.sub.setsockopt(zmq.LINGER, 0)
        self.sub.setsockopt(zmq.MAXMSGSIZE, MAX_ENVELOPE)
        keys = curve_keys(args)
        for sock in (self.pub, self.sub):
            if keys:
                # CURVE client: the forwarder's ZAP handler admits the public key only if the roster lists it.
                sock.setsockopt(zmq.CURVE_PUBLICKEY, keys[0].encode())
                sock.setsockopt(zmq.CURVE_SECRETKEY, keys[1].encode())
                sock.setsockopt(zmq.CURVE_SERVERKEY, keys[2].encode())
            sock.setsockopt(zmq.RECONNECT_IVL, 100)
            sock.setsockopt(zmq.RECONNECT_IVL_MAX, 1000)
            sock.setsockopt(zmq.HEARTBEAT_IVL, 500)
            sock.setsockopt(zmq.HEARTBEAT_TIMEOUT, 1500)
            sock.setsockopt(zmq.HEARTBEAT_TTL, 1500)
        for topic in (f"a/{self.id}/", f"r/{self.role}/", "*/"):
            self.sub.setsockopt(zmq.SUBSCRIBE, topic.encode())
        self.pub.connect(pub_endpoint)
        self.sub.connect(sub_endpoint)

        # Session: joining (hello until welcome) or joined to one coordinator incarnation.
        self.coordinator = None
        self.heartbeat_interval = 0.2
        self.liveness_deadline = 1.5
        self.last_heard = 0.0
        self.next_heartbeat_at = 0.0
        self.hello_interval = 0.05
        self.next_hello_at = 0.0
        self.joining_since = time.monotonic()
        self.link = None
        self.joined_before = False

        # Contractor: results kept until acknowledged, awards remembered so a duplicate is not redone.
        self.unacknowledged = {}  # (task, award) -> (result body, sim time)
        self.finished = set()
        self.finished_order = collections.deque()

        self.stopping = False
        self.exit_status = 0
        self.counts = collections.Counter()

    def log(self, message):
        if self.verbose:
            print(f"[{self.id}] {message}", file=sys.stderr, flush=True)

    # Sending

    def emit(self, envelope):
        payload = envelope.encode()
        self.pub.send_multipart([envelope.receiver.encode(), payload])

    def send_reliably(self, kind, body, sim_time):
        if self.link is not None:  # Otherwise kept (results) and sent again once joined.
            self.emit(self.link.send(kind, body, sim_time, time.monotonic()))

    # Session

    def begin_joining(self, why):
        if self.coordinator is not None:
            self.log(f"rejoining: {why}")
        # A new incarnation: the coordinator's link for the old one may still be counting its stream.
        self.incarnation += 1
        self.coordinator = None
        self.link = None
        self.hello_interval = 0.05
        self.next_hello_at = time.monotonic()
        self.joining_since = time.monotonic()

    def send_hello(self):
        body = (w_u8(ROLES[self.role]) + w_u32(self.capacity) + w_u32(os.getpid())
                + w_string(socket.gethostname()[:255]) + w_pairs({}))
        self.emit(Envelope(HELLO, self.id, COORDINATOR_TOPIC, body, self.incarnation))
        self.counts["hellos"] += 1

    def welcomed(self, envelope, now):
        reader = Reader(envelope.body)
        run_id = reader.string("welcome.runID", 128)
        heartbeat_ms = reader.u32("welcome.heartbeat")
        deadline_ms = reader.u32("welcome.deadline")
        reader.end("welcome body")
        if self.coordinator == envelope.sender_incarnation:
            self.last_heard = now
            return
        if self.coordinator is not None:
            self.begin_joining("a welcome from another coordinator incarnation")
            return
        self.coordinator = envelope.sender_incarnation
        self.heartbeat_interval = heartbeat_ms / 1000
        self.liveness_deadline = deadline_ms / 1000
        self.last_heard = now
        self.next_heartbeat_at = now + self.heartbeat_interval
        self.link = ReliableLink(self.id, self.incarnation, self.coordinator)
        self.counts["joins"] += 1
        self.joined_before = True
        self.log(f"joined run {run_id} as incarnation {self.incarnation}")
        # Results the previous coordinator (incarnation) never acknowledged go again.
        for (task, award), (body, sim_time) in sorted(self.unacknowledged.items()):
            self.send_reliably(RESULT, body, sim_time)

    # Inbound

    def handle(self, frames, now):
        if len(frames) != 2:
            self.counts["rejected"] += 1
            return
        topic, payload = frames
        try:
            envelopes = split_batch(payload)
        except WireError as error:
            self.counts["rejected"] += 1
            self.log(f"rejected a message: {error}")
            return
        for part in envelopes:
            self.handle_envelope(topic, part, now)
            if self.stopping:
                break

    def handle_envelope(self, topic, payload, now):
        try:
            envelope = Envelope.decode(payload)
            if envelope.receiver.encode() != topic:
                raise WireError(f"envelope for {envelope.receiver} arrived on {topic!r}")
            if envelope.receiver_incarnation not in (0, self.incarnation):
                return  # Addressed to an earlier incarnation of this agent.
            if envelope.kind == BLOB_REQUEST:
                return self.answer_blob_request(envelope)
            if envelope.sender != COORDINATOR:
                return  # Agents take messages from the coordinator only.
            self.handle_from_coordinator(envelope, now)
        except WireError as error:
            self.counts["rejected"] += 1
            self.log(f"rejected a message: {error}")

    def handle_from_coordinator(self, envelope, now):
        if envelope.kind == WELCOME:
            return self.welcomed(envelope, now)
        if envelope.kind == EVICTED:
            self.counts["evictions"] += 1
            return self.begin_joining("evicted")
        if envelope.kind == SHUTDOWN:
            self.log("the coordinator ended the run")
            self.stopping = True
            return
        if self.coordinator is None:
            return
        if envelope.sender_incarnation != self.coordinator:
            if envelope.sender_incarnation > self.coordinator:
                self.begin_joining("a newer coordinator incarnation")
            return  # A late message of an older coordinator incarnation.
        self.last_heard = now
        delivered = self.link.receive(envelope, now)
        if delivered is not None:
            self.deliver(delivered)

    def deliver(self, envelope):
        reader = Reader(envelope.body)
        if envelope.kind == CALL_FOR_PROPOSALS:
            task, round_, work = reader.task("cfp.task"), reader.u32("cfp.round"), reader.string("cfp.work", 128)
            reader.end("cfp body")
            if work == RELAY_WORK:
                # Work is done inline, so every slot is free whenever a call arrives.
                self.send_reliably(BID, w_string(task) + w_u32(round_) + w_u32(self.capacity), envelope.sim_time)
                self.counts["bids"] += 1
            else:
                self.send_reliably(DECLINE, w_string(task) + w_u64(round_) + w_string(f"cannot do {work}"),
                                   envelope.sim_time)
                self.counts["declines"] += 1
        elif envelope.kind == AWARD:
            task, award = reader.task("award.task"), reader.u64("award.number")
            work = reader.string("award.work", 128)
            task_input = reader.bytes_field("award.input")
            reader.pairs("award.context")  # The service directory; relay work needs none.
            reader.end("award body")
            self.awarded(task, award, work, task_input, envelope.sim_time)
        elif envelope.kind == RESULT_ACK:
            task, award = reader.task("ack.task"), reader.u64("ack.award")
            reader.end("result ack body")
            self.unacknowledged.pop((task, award), None)
        else:
            raise WireError(f"unexpected kind 0x{envelope.kind:02x} on the reliable stream")

    def awarded(self, task, award, work, task_input, sim_time):
        reference = (task, award)
        accept = w_string(task) + w_u64(award)
        if reference in self.finished:
            # A duplicated award: accept again, never do it twice; resend the result if still owed.
            self.counts["duplicate_awards"] += 1
            self.send_reliably(ACCEPT, accept, sim_time)
            if reference in self.unacknowledged:
                self.send_reliably(RESULT, *self.unacknowledged[reference])
            return
        if work != RELAY_WORK:
            self.send_reliably(REFUSE, accept + w_string(f"cannot do {work}"), sim_time)
            return
        self.counts["awards"] += 1
        self.send_reliably(ACCEPT, accept, sim_time)
        output = hashlib.sha256(task_input + task.encode("ascii")).digest()  # SHA-256(input ‖ task id)
        body = w_string(task) + w_u64(award) + w_u8(0) + w_bytes(output) + w_pairs({})
        self.unacknowledged[reference] = (body, sim_time)
        self.finished.add(reference)
        self.finished_order.append(reference)
        if len(self.finished_order) > 65536:
            self.finished.discard(self.finished_order.popleft())
        self.send_reliably(RESULT, body, sim_time)
        self.counts["results"] += 1

    def answer_blob_request(self, envelope):
        reader = Reader(envelope.body)
        blob_hash = reader._take(32, "blobRequest.hash")
        reader.u64("blobRequest.offset")
        reader.u32("blobRequest.length")
        reader.end("blob request body")
        self.emit(Envelope(BLOB_MISSING, self.id, f"a/{envelope.sender}/",
                           blob_hash + w_string("this participant serves no blobs"), self.incarnation,
                           envelope.sender_incarnation))

    # Timers

    def tick(self, now):
        if self.coordinator is None:
            # A first join waits for the mesh to come up; a rejoin gives up sooner (the run may be over).
            timeout = self.rejoin_timeout if self.joined_before else self.join_timeout
            if now - self.joining_since > timeout:
                self.log(f"no welcome within {timeout} s; giving up")
                self.exit_status = 3
                self.stopping = True
                return
            if now >= self.next_hello_at:
                self.send_hello()
                self.next_hello_at = now + self.hello_interval
                self.hello_interval = min(self.hello_interval * 2, 0.5)
            return
        if now - self.last_heard >= self.liveness_deadline:
            return self.begin_joining("the coordinator fell silent")
        if now >= self.next_heartbeat_at:
            heartbeat = Envelope(HEARTBEAT, self.id, COORDINATOR_TOPIC, b"", self.incarnation, self.coordinator)
            self.link.stamp_ack(heartbeat)
            self.emit(heartbeat)
            self.next_heartbeat_at = now + self.heartbeat_interval
        try:
            for envelope in self.link.tick(now):
                self.emit(envelope)
        except Unreachable as error:
            self.begin_joining(f"the coordinator stopped acknowledging: {error}")

    def next_wakeup(self, now):
        candidates = [now + 0.05]
        if self.coordinator is None:
            candidates.append(self.next_hello_at)
        else:
            candidates.append(self.next_heartbeat_at)
            if self.link.next_deadline() is not None:
                candidates.append(self.link.next_deadline())
        return max(0.0, min(candidates) - now)

    # Main loop

    def run(self):
        poller = zmq.Poller()
        poller.register(self.sub, zmq.POLLIN)
        self.tick(time.monotonic())
        while not self.stopping:
            now = time.monotonic()
            if now >= self.deadline:
                self.log("--max-seconds passed; leaving")
                self.exit_status = 3
                break
            if poller.poll(int(self.next_wakeup(now) * 1000)):
                now = time.monotonic()
                for _ in range(512):  # A bounded batch, then timers get their turn.
                    try:
                        frames = self.sub.recv_multipart(zmq.NOBLOCK)
                    except zmq.Again:
                        break
                    self.handle(frames, now)
                    if self.stopping:
                        break
            if not self.stopping:
                self.tick(time.monotonic())
        self.leave()
        return self.exit_status

    def leave(self):
        if self.coordinator is not None:
            self.emit(Envelope(GOODBYE, self.id, COORDINATOR_TOPIC, w_string("stopping"), self.incarnation,
                               self.coordinator))
        self.sub.close()
        self.pub.close()  # Linger (2 s) lets libzmq flush the goodbye.
        self.context.term()
        summary = {"agent": self.id, "role": self.role, "status": self.exit_status,
                   "retransmitted": self.link.retransmitted if self.link else 0}
        for key in ("joins", "hellos", "bids", "declines", "awards", "results", "duplicate_awards",
                    "evictions", "rejected"):
            summary[key] = self.counts[key]
        print(json.dumps(summary, sort_keys=True), flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Join a Meshwork mesh as one more agent and do relay work.")
    parser.add_argument("--endpoint", required=True, help="the mesh's address, such as ipc:///tmp/run/mesh")
    parser.add_argument("--id", default="monitoring-9", help="this agent's id (1-64 of A-Z a-z 0-9 - _ .)")
    parser.add_argument("--role", default="monitoring", choices=sorted(ROLES), help="the role it serves")
    parser.add_argument("--capacity", type=int, default=4, help="tasks it bids for at once (1-65536)")
    parser.add_argument("--join-timeout", type=float, default=60.0, help="seconds to wait for a welcome")
    parser.add_argument("--rejoin-timeout", type=float, default=10.0,
                        help="seconds to wait for a welcome after losing the coordinator")
    parser.add_argument("--max-seconds", type=float, default=600.0, help="leave after this many seconds")
    parser.add_argument("--verbose", action="store_true", help="log the session to stderr")
    parser.add_argument("--secret-key", help="tcp://: this agent's .key file (meshwork keys generate --id ID)")
    parser.add_argument("--server-key", help="tcp://: the coordinator's public key, or its .pub file")
    args = parser.parse_args(argv)
    if not (1 <= len(args.id) <= 64 and all(c.isascii() and (c.isalnum() or c in "-_.") for c in args.id)):
        parser.error(f"--id {args.id!r}: 1-64 characters of A-Z a-z 0-9 - _ .")
    if not 1 <= args.capacity <= 65536:
        parser.error("--capacity must be 1-65536")
    agent = PythonAgent(args)

    def stop(_signum, _frame):
        agent.stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    return agent.run()


if __name__ == "__main__":
    sys.exit(main())
