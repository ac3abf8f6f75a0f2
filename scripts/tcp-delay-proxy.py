#!/usr/bin/env python3
"""A transparent TCP proxy that delays every byte by a settable number of milliseconds.

`tc netem` does not exist in this kernel, so delay between the test "hosts" of
scripts/netns-hosts.sh comes from here. netns-hosts.sh runs it inside one host's namespace
and sends that host's outgoing TCP connections to it with an nftables DNAT rule; the proxy
finds each connection's real destination (SO_ORIGINAL_DST), connects there with a socket
mark the rule skips, and copies bytes both ways. Each chunk is written `delay` ms after it
was read, in order, so a stream stays a stream: only its timing changes.

The delay is read from CONTROL (a file holding the milliseconds, 0 when absent or unreadable)
whenever it changes, so `netns-hosts.sh delay` can turn it on and off while connections live.

    tcp-delay-proxy.py LISTEN_ADDRESS PORT CONTROL MARK
"""

import asyncio
import os
import signal
import socket
import struct
import sys
import time

SO_ORIGINAL_DST = 80


class Delay:
    """The current delay in seconds, re-read from the control file at most every 50 ms."""

    def __init__(self, path):
        self.path = path
        self.seconds = 0.0
        self.checked = 0.0

    def now(self):
        moment = time.monotonic()
        if moment - self.checked >= 0.05:
            self.checked = moment
            try:
                with open(self.path) as control:
                    self.seconds = max(0.0, float(control.read().strip() or "0") / 1000.0)
            except (OSError, ValueError):
                self.seconds = 0.0
        return self.seconds


async def pump(reader, writer, delay):
    """Copies reader to writer, each chunk `delay` after it arrived, in order."""
    queue = asyncio.Queue()

    async def read():
        try:
            while True:
                chunk = await reader.read(65536)
                await queue.put((time.monotonic() + delay.now(), chunk))
                if not chunk:
                    return
        except (ConnectionError, OSError):
            await queue.put((time.monotonic(), b""))

    async def write():
        try:
            while True:
                due, chunk = await queue.get()
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                if not chunk:
                    break
                writer.write(chunk)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    await asyncio.gather(read(), write())


def original_destination(sock):
    raw = sock.getsockopt(socket.SOL_IP, SO_ORIGINAL_DST, 16)
    port, packed = struct.unpack("!2xH4s8x", raw)
    return socket.inet_ntoa(packed), port


async def main():
    if len(sys.argv) != 5:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    address, port, control, mark = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4], 0)
    delay = Delay(control)

    async def accepted(client_reader, client_writer):
        sock = client_writer.get_extra_info("socket")
        try:
            host, target_port = original_destination(sock)
            upstream = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            upstream.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, mark)
            upstream.setblocking(False)
            await asyncio.get_running_loop().sock_connect(upstream, (host, target_port))
            server_reader, server_writer = await asyncio.open_connection(sock=upstream)
            print(f"tcp-delay-proxy: connection to {host}:{target_port}", file=sys.stderr, flush=True)
        except OSError as error:
            print(f"tcp-delay-proxy: cannot reach the original destination: {error}", file=sys.stderr, flush=True)
            client_writer.close()
            return
        await asyncio.gather(pump(client_reader, server_writer, delay), pump(server_reader, client_writer, delay))

    server = await asyncio.start_server(accepted, address, port)
    print(f"tcp-delay-proxy: pid {os.getpid()} on {address}:{port}, delay from {control}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    # Whatever descriptors the launcher inherited (a test's output pipe, say) must not be held
    # open for the proxy's whole life, or the launcher's reader never sees the end of its output.
    os.closerange(3, os.sysconf("SC_OPEN_MAX"))
    # A launcher may block or ignore SIGTERM (a test runner's threads do); `down` ends us with it.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    sys.exit(asyncio.run(main()))
