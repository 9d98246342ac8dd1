"""The web app under load: N simulated users on loopback, latency per request kind; bounded, prints only.

Starts ``needlecare serve`` (the default set-up: SQLite and photo files in a temporary folder, jobs
in-process) on a free loopback port, signs up one account per user, each with a treatment and one small
photo, then runs the users for ``--seconds`` (each waits 0.5-1.5 s between requests): logged-in page views,
API reads and a few uploads of a 12-MP phone JPEG. Prints p50/p95/p99/max per request kind, errors, the time
from an upload to its analysed result, and the server's memory at the start and the end. Stops the server.

Usage: ``.venv/bin/python benchmarks/load_web.py [--users 50] [--seconds 65] [--upload-share 0.03]
[--redis redis://127.0.0.1:6379/0]`` (with ``--redis`` the jobs run in a ``needlecare worker`` beside the
server, and an upload's result is polled for).
Traffic goes to 127.0.0.1 only; every loop is bounded in time and count.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
NEEDLECARE = str(Path(sys.executable).parent / "needlecare")
SMALL_PHOTO = REPO / "tests" / "fixtures" / "faces" / "obama.jpg"
#: Largest number of requests one run sends, whatever the duration.
MAX_REQUESTS = 100_000
TREATMENT = {"treated_on": "2026-11-20", "device": "pen", "depth_mm": 1.0, "passes": 3, "area": "face",
             "skin_type": 3}  # fmt: skip


@dataclass
class Stats:
    times: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    upload_to_result: list[float] = field(default_factory=list)
    sent: int = 0

    def add(self, kind: str, seconds: float, ok: bool) -> None:
        self.times.setdefault(kind, []).append(seconds)
        if not ok:
            self.errors[kind] = self.errors.get(kind, 0) + 1


@dataclass
class User:
    client: httpx.AsyncClient
    csrf: str
    treatment: int
    photo: int


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


async def _wait_up(base: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient(base_url=base) as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get("/")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError("the server did not start")


async def _sign_up(base: str, index: int, small: bytes) -> User:
    client = httpx.AsyncClient(base_url=base, timeout=60.0)
    body = {"email": f"load{index}@example.org", "password": "quiet harbour lantern 7 violet"}
    csrf = (await client.get("/api/v1/auth/session")).raise_for_status().json()["csrf_token"]
    # Sign-up answers 202 and mails a verification link; an unverified account may log in.
    (await client.post("/api/v1/auth/signup", json=body, headers={"X-CSRF-Token": csrf})).raise_for_status()
    login = await client.post("/api/v1/auth/login", json=body, headers={"X-CSRF-Token": csrf})
    session = login.raise_for_status().json()
    headers = {"X-CSRF-Token": session["csrf_token"]}
    treatment = (await client.post("/api/v1/treatments", json=TREATMENT, headers=headers)).raise_for_status()
    treatment_id = int(treatment.json()["id"])
    photo = await client.post(
        f"/api/v1/treatments/{treatment_id}/photos",
        files={"file": ("face.jpg", small, "image/jpeg")},
        data={"consent": "private", "is_baseline": "true"},
        headers=headers,
    )
    return User(client, session["csrf_token"], treatment_id, int(photo.raise_for_status().json()["id"]))


async def _request(stats: Stats, kind: str, call: object) -> httpx.Response | None:
    start = time.perf_counter()
    try:
        response = await call  # type: ignore[misc]
    except httpx.HTTPError:
        stats.add(kind, time.perf_counter() - start, False)
        return None
    stats.add(kind, time.perf_counter() - start, response.status_code < 400)
    return response


async def _upload(user: User, stats: Stats, phone: bytes) -> None:
    start = time.perf_counter()
    response = await _request(
        stats,
        "upload",
        user.client.post(
            f"/api/v1/treatments/{user.treatment}/photos",
            files={"file": ("phone.jpg", phone, "image/jpeg")},
            data={"consent": "private"},
            headers={"X-CSRF-Token": user.csrf},
        ),
    )
    if response is None or response.status_code >= 400:
        return
    photo_id = response.json()["id"]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status = response.json().get("analysis_status")
        if status != "pending":
            stats.upload_to_result.append(time.perf_counter() - start)
            return
        await asyncio.sleep(0.2)
        polled = await _request(stats, "api read", user.client.get(f"/api/v1/photos/{photo_id}"))
        if polled is None or polled.status_code >= 400:
            return
        response = polled


async def _run_user(user: User, stats: Stats, phone: bytes, until: float, upload_share: float) -> None:
    pages = ["/", f"/treatments/{user.treatment}", f"/treatments/{user.treatment}/timeline",
             f"/photos/{user.photo}", "/reminders"]  # fmt: skip
    reads = ["/api/v1/treatments", f"/api/v1/treatments/{user.treatment}",
             f"/api/v1/treatments/{user.treatment}/photos", f"/api/v1/photos/{user.photo}"]  # fmt: skip
    rng = random.Random(user.treatment)
    await asyncio.sleep(rng.uniform(0, 1.0))
    while time.monotonic() < until and stats.sent < MAX_REQUESTS:
        stats.sent += 1
        draw = rng.random()
        if draw < upload_share:
            await _upload(user, stats, phone)
        elif draw < 0.6:
            await _request(stats, "page view", user.client.get(rng.choice(pages)))
        else:
            await _request(stats, "api read", user.client.get(rng.choice(reads)))
        await asyncio.sleep(rng.uniform(0.5, 1.5))


def _phone_photo(folder: Path) -> bytes:
    sys.path.insert(0, str(Path(__file__).parent))
    from bench_analyze import FACE_PHOTOS, build_eye_distance_photo, source_eye_distance

    path = folder / "phone.jpg"
    build_eye_distance_photo(FACE_PHOTOS[0], path, 400, source_eye_distance(FACE_PHOTOS[0]))
    return path.read_bytes()


def _print(stats: Stats, seconds: float) -> None:
    total = sum(len(t) for t in stats.times.values())
    print(f"{total} requests in {seconds:.0f} s, {sum(stats.errors.values())} errors")
    print(f"{'kind':<12} {'count':>6} {'errors':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for kind, times in sorted(stats.times.items()):
        ms = sorted(1000 * t for t in times)
        q = statistics.quantiles(ms, n=100, method="inclusive") if len(ms) > 1 else ms * 99
        print(
            f"{kind:<12} {len(ms):>6} {stats.errors.get(kind, 0):>6} {statistics.median(ms):>8.0f} "
            f"{q[94]:>8.0f} {q[98]:>8.0f} {ms[-1]:>8.0f}"
        )
    if stats.upload_to_result:
        results = stats.upload_to_result
        print(
            f"upload to analysed result: n={len(results)}, median {statistics.median(results):.2f} s, "
            f"max {max(results):.2f} s"
        )


async def _main(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="needlecare-load-") as tmp:
        folder = Path(tmp)
        phone = _phone_photo(folder)
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        env = {**os.environ, "NEEDLECARE_DATA_DIR": str(folder / "data"), "NEEDLECARE_COOKIE_SECURE": "false"}
        # Every simulated user signs up from 127.0.0.1: lift the per-address sign-up limit for this server.
        env["NEEDLECARE_SIGNUP_MAX_PER_ADDRESS"] = str(max(args.users, 1) + 10)
        env.pop("NEEDLECARE_BROKER_URL", None)
        env.pop("NEEDLECARE_DATABASE_URL", None)
        if args.redis:
            env["NEEDLECARE_BROKER_URL"] = args.redis
            env["NEEDLECARE_BROKER_NAMESPACE"] = f"needlecare-load-{os.getpid()}"
        log = open(folder / "server.log", "wb")  # noqa: SIM115 - closed in finally
        server = subprocess.Popen(
            [NEEDLECARE, "serve", "--host", "127.0.0.1", "--port", str(port)], env=env, stdout=log, stderr=log
        )
        worker = (
            subprocess.Popen([NEEDLECARE, "worker"], env=env, stdout=log, stderr=log) if args.redis else None
        )
        users: list[User] = []
        try:
            await _wait_up(base)
            small = SMALL_PHOTO.read_bytes()
            for index in range(args.users):  # one at a time: sign-up hashes a password (argon2)
                users.append(await _sign_up(base, index, small))
            rss_start = _rss_mib(server.pid)
            print(
                f"{args.users} users signed up; server RSS {rss_start:.0f} MiB; load average "
                f"{os.getloadavg()[0]:.2f}; running {args.seconds:.0f} s"
            )
            stats = Stats()
            start = time.monotonic()
            until = start + args.seconds
            await asyncio.gather(*(_run_user(u, stats, phone, until, args.upload_share) for u in users))
            elapsed = time.monotonic() - start
            rss_end = _rss_mib(server.pid)
            _print(stats, elapsed)
            print(
                f"server RSS {rss_start:.0f} MiB -> {rss_end:.0f} MiB; load average {os.getloadavg()[0]:.2f}"
            )
        finally:
            for user in users:
                await user.client.aclose()
            for process in (server, worker):
                if process is None:
                    continue
                process.terminate()
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            log.close()
            if args.redis:
                _delete_keys(args.redis, env["NEEDLECARE_BROKER_NAMESPACE"])
    return 0


def _delete_keys(url: str, namespace: str) -> None:
    """Remove what this run left in Redis (its own key prefix only)."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{namespace}:*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=65.0, help="load duration (at most 600)")
    parser.add_argument("--upload-share", type=float, default=0.03, help="share of requests that upload")
    parser.add_argument(
        "--redis",
        metavar="URL",
        help="run the jobs on this Redis (e.g. redis://127.0.0.1:6379/0, own key prefix) with a "
        "`needlecare worker` beside the server, instead of in-process",
    )
    args = parser.parse_args(argv)
    args.seconds = min(args.seconds, 600.0)
    return asyncio.run(_main(args))


if __name__ == "__main__":
    sys.exit(main())
