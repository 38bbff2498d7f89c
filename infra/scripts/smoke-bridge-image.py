#!/usr/bin/env python3
"""Smoke test of the bridge image (target/bridge-image/bridge.oci.tar, from `make package`).

Reads the OCI archive as a registry would: the image must be linux/arm64, run as a non-root
user, hold nothing but the static binary and the CA roots, and start: its entrypoint is run
(under qemu-aarch64-static on an x86_64 machine) as the image's user with the image's
environment, must answer /health and /ready, and must drain and exit 0 on SIGTERM.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request

ARCHIVE = sys.argv[1] if len(sys.argv) > 1 else "target/bridge-image/bridge.oci.tar"
EXPECTED_FILES = {"bridge", "etc/ssl/certs/ca-certificates.crt"}


def fail(message):
    sys.exit(f"bridge image smoke test: {message}")


def blob(root, digest):
    algorithm, hexdigest = digest.split(":", 1)
    return os.path.join(root, "blobs", algorithm, hexdigest)


def read_image(root):
    """The image's config and its root filesystem, unpacked under root/rootfs."""
    with open(os.path.join(root, "index.json")) as f:
        index = json.load(f)
    with open(blob(root, index["manifests"][0]["digest"])) as f:
        manifest = json.load(f)
    with open(blob(root, manifest["config"]["digest"])) as f:
        config = json.load(f)
    rootfs = os.path.join(root, "rootfs")
    os.mkdir(rootfs)
    for layer in manifest["layers"]:
        with tarfile.open(blob(root, layer["digest"])) as t:  # gzip or plain, detected
            t.extractall(rootfs, filter="data")
    return config, rootfs


def check_static_arm64(path):
    """An ELF for AArch64 with no program interpreter (so no libc is needed)."""
    with open(path, "rb") as f:
        elf = f.read()
    if elf[:4] != b"\x7fELF" or elf[4] != 2:
        fail("/bridge is not a 64-bit ELF")
    machine = int.from_bytes(elf[18:20], "little")
    if machine != 183:
        fail(f"/bridge is for machine {machine}, not AArch64 (183)")
    phoff = int.from_bytes(elf[32:40], "little")
    phentsize = int.from_bytes(elf[54:56], "little")
    phnum = int.from_bytes(elf[56:58], "little")
    for i in range(phnum):
        p_type = int.from_bytes(elf[phoff + i * phentsize : phoff + i * phentsize + 4], "little")
        if p_type == 3:  # PT_INTERP
            fail("/bridge is dynamically linked")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as r:
            return r.status
    except OSError:
        return None


def main():
    if not os.path.exists(ARCHIVE):
        fail(f"{ARCHIVE} not found: run `make package` first")
    root = tempfile.mkdtemp(prefix="bridge-image-")
    try:
        with tarfile.open(ARCHIVE) as t:
            t.extractall(root, filter="data")
        config, rootfs = read_image(root)

        if (config.get("architecture"), config.get("os")) != ("arm64", "linux"):
            fail(f"platform {config.get('os')}/{config.get('architecture')}, not linux/arm64")
        run = config.get("config", {})
        user = run.get("User", "")
        uid, _, gid = user.partition(":")
        if not uid.isdigit() or int(uid) == 0 or not gid.isdigit() or int(gid) == 0:
            fail(f"the image runs as {user!r}, not a numeric non-root user and group")
        if run.get("Entrypoint") != ["/bridge"]:
            fail(f"entrypoint {run.get('Entrypoint')}, not ['/bridge']")
        files = {
            os.path.relpath(os.path.join(d, name), rootfs)
            for d, _, names in os.walk(rootfs)
            for name in names
        }
        if files != EXPECTED_FILES:
            fail(f"the image holds {sorted(files)}, expected {sorted(EXPECTED_FILES)}")
        check_static_arm64(os.path.join(rootfs, "bridge"))

        # The image's environment, plus what a local start needs instead of AWS.
        env = dict(item.split("=", 1) for item in run.get("Env", []))
        port = free_port()
        env.update(
            PORT=str(port),
            TABLE_NAME="smoke",
            DEVELOPMENT_MODE="true",
            CAPTCHA_DISABLED="true",
            SSL_CERT_FILE=os.path.join(rootfs, env["SSL_CERT_FILE"].lstrip("/")),
        )
        os.chmod(root, 0o755)
        emulator = []
        if os.uname().machine != "aarch64":
            qemu = shutil.which("qemu-aarch64-static") or fail("qemu-aarch64-static not found")
            emulator = [qemu]
        bridge = subprocess.Popen(
            emulator + [os.path.join(rootfs, "bridge")],
            env=env,
            user=int(uid),
            group=int(gid),
            extra_groups=[],
        )
        try:
            deadline = time.monotonic() + 60
            while get(port, "/health") != 200:
                if bridge.poll() is not None:
                    fail(f"the bridge exited with {bridge.returncode} before answering /health")
                if time.monotonic() > deadline:
                    fail("no 200 from /health within 60 s")
                time.sleep(0.25)
            if get(port, "/ready") != 200:
                fail("/ready is not 200 on an idle bridge")
            bridge.send_signal(signal.SIGTERM)
            code = bridge.wait(timeout=30)
            if code != 0:
                fail(f"the bridge exited with {code} after SIGTERM")
        finally:
            if bridge.poll() is None:
                bridge.kill()
        print(f"bridge image smoke test passed: linux/arm64, user {user}, /health and /ready 200, clean drain")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
