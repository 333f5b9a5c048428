#!/usr/bin/env python3
"""Run a real Elasticsearch, Kafka, Prometheus and Alertmanager on loopback for logferry's tests and local use.

Usage: scripts/services {up|down|status|fetch|wipe} [es|kafka|prometheus|alertmanager ...]
       scripts/services {start-es|stop-es|start-kafka|stop-kafka}
       scripts/services bin {prometheus|promtool|alertmanager|amtool}

Elasticsearch and Kafka are fetched with Maven from the public Maven repository, Prometheus and
Alertmanager as Debian's packages (``apt-get download`` + ``dpkg-deb -x``, no installation), into a
cache outside the repository (${LOGFERRY_CACHE:-~/.cache/logferry}) and reused afterwards, so a fresh
machine needs only Maven, apt, a JDK 21+ under /usr/lib/jvm and logferry's own Python dependencies
(confluent-kafka), so it runs right after `scripts/demo` without the dev extras.
Run `scripts/services --help` for the environment variables.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import pwd
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Newest releases that the public Maven repository serves complete (see scripts/services.d/VERSIONS.md).
DEFAULT_ES_VERSION = "9.5.4"
DEFAULT_KAFKA_VERSION = "4.4.0"
SCALA_SUFFIX = "2.13"
# Debian 12's packages (upstream versions); docker-compose.yml runs the same upstream releases.
DEFAULT_PROMETHEUS_VERSION = "2.42.0"
DEFAULT_ALERTMANAGER_VERSION = "0.25.0"

ENV_HELP = f"""\
environment:
  LOGFERRY_CACHE                  cache dir for downloads and state (default ~/.cache/logferry)
  LOGFERRY_ES_VERSION             Elasticsearch version (default {DEFAULT_ES_VERSION}; 8.x also runs on JDK 17)
  LOGFERRY_KAFKA_VERSION          Kafka version (default {DEFAULT_KAFKA_VERSION})
  LOGFERRY_ES_PORT                Elasticsearch HTTP port on 127.0.0.1 (default 9200)
  LOGFERRY_ES_TRANSPORT_PORT      Elasticsearch transport port (default 9300)
  LOGFERRY_KAFKA_PORT             Kafka client listener port (default 9092)
  LOGFERRY_KAFKA_CONTROLLER_PORT  Kafka KRaft controller port (default 9093)
  LOGFERRY_ES_HEAP                Elasticsearch heap (default 1g)
  LOGFERRY_KAFKA_HEAP             Kafka heap (default 512m)
  LOGFERRY_JAVA_HOME              JDK to use (default: newest /usr/lib/jvm/temurin-* that fits)
  LOGFERRY_ES_USER                unprivileged user that runs Elasticsearch when run as root
                                  (default logferry-es; created with useradd --system)
  LOGFERRY_ES_ROOT                Elasticsearch home + state when run as root
                                  (default /var/lib/logferry-es: the cache under /root is private)
  LOGFERRY_PROMETHEUS_PORT        Prometheus HTTP port on 127.0.0.1 (default 9090)
  LOGFERRY_ALERTMANAGER_PORT      Alertmanager HTTP port on 127.0.0.1 (default 9095; 9093 is Kafka's controller)
  LOGFERRY_START_TIMEOUT          seconds to wait for each server to become healthy (default 240)
"""

HOST = "127.0.0.1"
SCRIPT_DIR = Path(__file__).resolve().parent
ROOT_ENDPOINT_SOURCE = SCRIPT_DIR / "services.d" / "rest-root" / "src"
ROOT_ENDPOINT_PLUGIN = "logferry-rest-root"
HEALTH_TOPIC_PREFIX = "logferry-healthcheck-"


def log(message: str) -> None:
    print(f"[services] {message}", file=sys.stderr, flush=True)


class ServiceError(Exception):
    """A failure the user has to act on; printed without a traceback."""


@dataclass(frozen=True)
class Layout:
    """Every path and setting the script uses, read once from the environment."""

    cache: Path
    state: Path
    es_version: str
    kafka_version: str
    es_port: int
    es_transport_port: int
    kafka_port: int
    kafka_controller_port: int
    es_heap: str
    kafka_heap: str
    es_user: str | None
    es_root: Path
    start_timeout: float
    prometheus_port: int = 9090
    alertmanager_port: int = 9095

    @classmethod
    def from_env(cls) -> Layout:
        env = os.environ
        cache = Path(env.get("LOGFERRY_CACHE") or Path.home() / ".cache" / "logferry").expanduser().resolve()
        as_root = os.geteuid() == 0
        es_root = Path(env.get("LOGFERRY_ES_ROOT") or ("/var/lib/logferry-es" if as_root else cache / "es"))
        return cls(
            cache=cache,
            state=cache / "state",
            es_version=env.get("LOGFERRY_ES_VERSION", DEFAULT_ES_VERSION),
            kafka_version=env.get("LOGFERRY_KAFKA_VERSION", DEFAULT_KAFKA_VERSION),
            es_port=int(env.get("LOGFERRY_ES_PORT", "9200")),
            es_transport_port=int(env.get("LOGFERRY_ES_TRANSPORT_PORT", "9300")),
            kafka_port=int(env.get("LOGFERRY_KAFKA_PORT", "9092")),
            kafka_controller_port=int(env.get("LOGFERRY_KAFKA_CONTROLLER_PORT", "9093")),
            es_heap=env.get("LOGFERRY_ES_HEAP", "1g"),
            kafka_heap=env.get("LOGFERRY_KAFKA_HEAP", "512m"),
            es_user=env.get("LOGFERRY_ES_USER", "logferry-es") if as_root else None,
            es_root=es_root.resolve(),
            start_timeout=float(env.get("LOGFERRY_START_TIMEOUT", "240")),
            prometheus_port=int(env.get("LOGFERRY_PROMETHEUS_PORT", "9090")),
            alertmanager_port=int(env.get("LOGFERRY_ALERTMANAGER_PORT", "9095")),
        )

    @property
    def es_url(self) -> str:
        return f"http://{HOST}:{self.es_port}"

    @property
    def kafka_bootstrap(self) -> str:
        return f"{HOST}:{self.kafka_port}"

    @property
    def es_home(self) -> Path:
        return self.es_root / f"elasticsearch-{self.es_version}"

    @property
    def es_node_dir(self) -> Path:
        """Config, data, logs and pid of the node on this port (state survives restarts)."""
        return self.es_root / f"node-{self.es_port}"

    @property
    def es_pid_file(self) -> Path:
        return self.es_node_dir / "run" / "elasticsearch.pid"

    @property
    def es_log_file(self) -> Path:
        return self.es_node_dir / "logs" / "logferry.log"

    @property
    def es_launcher_log(self) -> Path:
        return self.es_node_dir / "logs" / "launcher.out"

    @property
    def kafka_lib(self) -> Path:
        return self.cache / f"kafka_{SCALA_SUFFIX}-{self.kafka_version}" / "lib"

    @property
    def kafka_dir(self) -> Path:
        return self.state / f"kafka-{self.kafka_port}"

    @property
    def kafka_pid_file(self) -> Path:
        return self.kafka_dir / "kafka.pid"

    @property
    def kafka_log_file(self) -> Path:
        return self.kafka_dir / "logs" / "server.log"

    @property
    def kafka_stdout_file(self) -> Path:
        return self.kafka_dir / "logs" / "kafka.out"


# ---------------------------------------------------------------- small helpers


@contextlib.contextmanager
def exclusive_lock(layout: Layout) -> Iterator[None]:
    """Serialise up/down across concurrent callers (parallel pytest sessions, several helpers)."""
    layout.cache.mkdir(parents=True, exist_ok=True)
    with open(layout.cache / "services.lock", "w") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def tail(path: Path, lines: int = 40) -> str:
    try:
        content = path.read_text(errors="replace").splitlines()
    except OSError:
        return f"(no {path})"
    return "\n".join(content[-lines:])


def port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        return probe.connect_ex((HOST, port)) == 0


def read_pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None


def process_cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def live_pid(pid_file: Path, marker: str) -> int | None:
    """The pid in pid_file if that process is alive and is ours (guards against pid reuse)."""
    pid = read_pid(pid_file)
    if pid is None:
        return None
    cmdline = process_cmdline(pid)
    if marker not in cmdline:
        return None
    state = ""
    with contextlib.suppress(OSError):
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][:1]
    return None if state == "Z" else pid


def wait_for(condition: Callable[[], bool], timeout: float, interval: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def stop_process(pid: int, name: str, grace: float = 60.0) -> None:
    """SIGTERM, wait up to `grace` seconds, then SIGKILL."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    log(f"stopping {name} (pid {pid}) ...")
    if wait_for(lambda: not Path(f"/proc/{pid}").exists() or _is_zombie(pid), grace, 0.2):
        return
    log(f"{name} did not stop within {grace:.0f}s, sending SIGKILL")
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not Path(f"/proc/{pid}").exists() or _is_zombie(pid), 10.0, 0.2)


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z")
    except (OSError, IndexError):
        return True


def java_major(java_home: Path) -> int | None:
    try:
        release = (java_home / "release").read_text()
    except OSError:
        return None
    found = re.search(r'^JAVA_VERSION="(\d+)(?:\.(\d+))?', release, re.MULTILINE)
    if not found:
        return None
    major = int(found.group(1))
    return int(found.group(2)) if major == 1 and found.group(2) else major


def choose_java_home(minimum: int) -> Path:
    """LOGFERRY_JAVA_HOME, else the newest Temurin JDK >= minimum, else any JDK >= minimum."""
    override = os.environ.get("LOGFERRY_JAVA_HOME")
    if override:
        home = Path(override)
        major = java_major(home)
        if major is None or major < minimum:
            raise ServiceError(f"LOGFERRY_JAVA_HOME={home} is not a JDK >= {minimum} (found {major})")
        return home
    candidates: list[tuple[int, int, Path]] = []
    for home in Path("/usr/lib/jvm").glob("*"):
        major = java_major(home)
        if major is not None and major >= minimum and (home / "bin" / "java").exists():
            preference = 1 if home.name.startswith("temurin-") else 0
            candidates.append((preference, major, home))
    if not candidates:
        raise ServiceError(f"no JDK >= {minimum} under /usr/lib/jvm (set LOGFERRY_JAVA_HOME)")
    return max(candidates)[2]


def raise_open_files_limit() -> None:
    """Elasticsearch wants 65535 open files; raise the limit as far as this process may."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    for wanted in ((65535, max(hard, 65535)), (hard, hard)):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, wanted)
            return
        except (ValueError, OSError):
            continue


def es_java_minimum(es_version: str) -> int:
    return 21 if int(es_version.split(".")[0]) >= 9 else 17


# ---------------------------------------------------------------- fetching with Maven


def run_maven(layout: Layout, project_dir: Path, goals: list[str]) -> None:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise ServiceError("Maven (mvn) is not on PATH; it is needed to fetch Elasticsearch and Kafka")
    command = [mvn, "-B", "-q", f"-Dmaven.repo.local={layout.cache / 'm2'}", "-f", str(project_dir / "pom.xml")]
    result = subprocess.run(command + goals, capture_output=True, text=True)
    if result.returncode != 0:
        output = "\n".join((result.stdout + result.stderr).splitlines()[-25:])
        raise ServiceError(f"Maven failed in {project_dir}:\n{output}")


def write_pom(project_dir: Path, dependencies: str) -> None:
    project_dir.mkdir(parents=True, exist_ok=True)
    (project_dir / "pom.xml").write_text(
        f"""<?xml version="1.0" encoding="UTF-8"?>
<!-- generated by logferry scripts/services: fetches a server distribution, builds nothing -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>logferry.services</groupId>
  <artifactId>{project_dir.name}</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
{dependencies}
  </dependencies>
</project>
"""
    )


def extract_zip(archive: Path, destination: Path) -> None:
    """Unzip keeping the executable bits (zipfile drops them) into a temp dir, then rename."""
    staging = destination.with_name(destination.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    with zipfile.ZipFile(archive) as bundle:
        for member in bundle.infolist():
            target = Path(bundle.extract(member, staging))
            mode = (member.external_attr >> 16) & 0o777
            if mode and not member.is_dir():
                target.chmod(mode)
    roots = list(staging.iterdir())
    source = roots[0] if len(roots) == 1 and roots[0].is_dir() else staging
    shutil.rmtree(destination, ignore_errors=True)
    source.rename(destination)
    shutil.rmtree(staging, ignore_errors=True)


def fetch_elasticsearch(layout: Layout) -> Path:
    """The integ-test-zip: the Apache-2-licensed core with no bundled JDK and few modules."""
    archive = layout.cache / "downloads" / f"elasticsearch-{layout.es_version}.zip"
    if not archive.exists():
        started = time.monotonic()
        log(f"fetching Elasticsearch {layout.es_version} with Maven ...")
        project = layout.cache / "maven" / f"elasticsearch-{layout.es_version}"
        write_pom(
            project,
            f"""    <dependency>
      <groupId>org.elasticsearch.distribution.integ-test-zip</groupId>
      <artifactId>elasticsearch</artifactId>
      <version>{layout.es_version}</version>
      <type>zip</type>
    </dependency>""",
        )
        run_maven(
            layout,
            project,
            ["dependency:copy-dependencies", f"-DoutputDirectory={archive.parent}", "-DincludeTypes=zip"],
        )
        if not archive.exists():
            raise ServiceError(f"Maven did not produce {archive}")
        log(f"fetched Elasticsearch in {time.monotonic() - started:.1f}s")
    marker = layout.es_home / ".logferry-extracted"
    if not marker.exists():
        layout.es_root.mkdir(parents=True, exist_ok=True)
        layout.es_root.chmod(0o755)
        extract_zip(archive, layout.es_home)
        marker.touch()
    return layout.es_home


def fetch_kafka(layout: Layout) -> Path:
    """Kafka core with its runtime dependencies plus the SLF4J->log4j2 binding for a broker log."""
    lib = layout.kafka_lib
    marker = lib / ".logferry-complete"
    if marker.exists():
        return lib
    started = time.monotonic()
    log(f"fetching Kafka {layout.kafka_version} with Maven ...")
    shutil.rmtree(lib, ignore_errors=True)
    project = layout.cache / "maven" / f"kafka-{layout.kafka_version}"
    # kafka-tools-api holds only the console tools' decoders; the broker never loads it and
    # 4.4.0's copy is missing from the public repository, so it is left out.
    write_pom(
        project,
        f"""    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_{SCALA_SUFFIX}</artifactId>
      <version>{layout.kafka_version}</version>
      <exclusions>
        <exclusion><groupId>org.apache.kafka</groupId><artifactId>kafka-tools-api</artifactId></exclusion>
      </exclusions>
    </dependency>""",
    )
    run_maven(layout, project, ["dependency:copy-dependencies", f"-DoutputDirectory={lib}", "-DincludeScope=runtime"])
    jars = [jar.name for jar in lib.glob("*.jar")]
    log4j = next((m.group(1) for j in jars if (m := re.fullmatch(r"log4j-core-(.+)\.jar", j))), None)
    slf4j = next((m.group(1) for j in jars if (m := re.fullmatch(r"slf4j-api-(.+)\.jar", j))), None)
    if log4j is None or slf4j is None:
        raise ServiceError(f"unexpected Kafka dependency set (no log4j-core or slf4j-api) in {lib}")
    binding = "log4j-slf4j-impl" if slf4j.startswith("1.") else "log4j-slf4j2-impl"
    binding_project = layout.cache / "maven" / f"kafka-{layout.kafka_version}-logging"
    write_pom(
        binding_project,
        f"""    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>{binding}</artifactId>
      <version>{log4j}</version>
    </dependency>""",
    )
    run_maven(
        layout,
        binding_project,
        ["dependency:copy-dependencies", f"-DoutputDirectory={lib}", "-DexcludeTransitive=true"],
    )
    marker.touch()
    log(f"fetched Kafka in {time.monotonic() - started:.1f}s ({len(jars) + 1} jars)")
    return lib


# ---------------------------------------------------------------- Elasticsearch


def install_root_endpoint(layout: Layout, java_home: Path) -> None:
    """Compile and install the GET / plugin (the integ-test-zip lacks the rest-root module).

    Compiled against the node's own jars, so it always matches the version that runs; a failure
    only costs GET / and HEAD / (client info()/ping()), so it is reported and the node still starts.
    """
    sources = sorted(ROOT_ENDPOINT_SOURCE.rglob("*.java"))
    digest = hashlib.sha256(b"".join(source.read_bytes() for source in sources)).hexdigest()[:16]
    plugin_dir = layout.es_home / "plugins" / ROOT_ENDPOINT_PLUGIN
    marker = plugin_dir / f".source-{digest}"
    if marker.exists():
        return
    shutil.rmtree(plugin_dir, ignore_errors=True)
    if (layout.es_home / "modules" / "rest-root").exists():
        return
    build = layout.es_root / f"build-{ROOT_ENDPOINT_PLUGIN}"
    shutil.rmtree(build, ignore_errors=True)
    (build / "classes").mkdir(parents=True)
    jar = build / f"{ROOT_ENDPOINT_PLUGIN}.jar"
    steps = [
        [
            str(java_home / "bin" / "javac"),
            "--release",
            "21",
            "-nowarn",
            "-cp",
            str(layout.es_home / "lib" / "*"),
            "-d",
            str(build / "classes"),
            *map(str, sources),
        ],
        [str(java_home / "bin" / "jar"), "--create", "--file", str(jar), "-C", str(build / "classes"), "."],
    ]
    for step in steps:
        result = subprocess.run(step, capture_output=True, text=True)
        if result.returncode != 0:
            log(f"warning: GET / plugin not built, the node will answer GET / with 405:\n{result.stderr[-2000:]}")
            return
    plugin_dir.mkdir(parents=True)
    shutil.copy2(jar, plugin_dir / jar.name)
    (plugin_dir / "plugin-descriptor.properties").write_text(
        f"""description=GET / and HEAD / for the integ-test-zip (logferry scripts/services)
version=1.0.0
name={ROOT_ENDPOINT_PLUGIN}
classname=logferry.es.RootEndpointPlugin
java.version=21
elasticsearch.version={layout.es_version}
"""
    )
    marker.touch()
    shutil.rmtree(build, ignore_errors=True)
    log("installed the GET / plugin")


def es_get(layout: Layout, path: str, timeout: float = 5.0) -> tuple[dict[str, object], dict[str, str]]:
    with urllib.request.urlopen(layout.es_url + path, timeout=timeout) as response:
        return json.loads(response.read()), dict(response.headers.items())


def es_health(layout: Layout) -> str | None:
    """Cluster health colour, or None when Elasticsearch does not answer."""
    try:
        body, _ = es_get(layout, "/_cluster/health?wait_for_status=yellow&timeout=1s")
    except (OSError, urllib.error.URLError, ValueError):
        return None
    status = body.get("status")
    return status if isinstance(status, str) else None


def es_version_running(layout: Layout) -> str | None:
    try:
        body, _ = es_get(layout, "/")
    except (OSError, urllib.error.URLError, ValueError):
        return None
    version = body.get("version")
    return str(version.get("number")) if isinstance(version, dict) else None


def ensure_es_user(layout: Layout) -> tuple[int, int] | None:
    """Elasticsearch refuses to run as root: create and return the unprivileged service user."""
    if layout.es_user is None:
        return None
    try:
        entry = pwd.getpwnam(layout.es_user)
    except KeyError:
        log(f"creating system user {layout.es_user}")
        subprocess.run(
            [
                "useradd",
                "--system",
                "--user-group",
                "--no-create-home",
                "--home-dir",
                str(layout.es_root),
                "--shell",
                "/usr/sbin/nologin",
                layout.es_user,
            ],
            check=True,
        )
        entry = pwd.getpwnam(layout.es_user)
    return entry.pw_uid, entry.pw_gid


def chown_tree(root: Path, owner: tuple[int, int]) -> None:
    uid, gid = owner
    os.chown(root, uid, gid)
    for directory, subdirs, files in os.walk(root):
        for name in subdirs + files:
            os.chown(os.path.join(directory, name), uid, gid, follow_symlinks=False)


def configure_es_node(layout: Layout, owner: tuple[int, int] | None) -> Path:
    node = layout.es_node_dir
    config = node / "config"
    for sub in ("config", "data", "logs", "tmp", "run"):
        (node / sub).mkdir(parents=True, exist_ok=True)
    # Refreshed from the distribution on every start (a version change brings its own files);
    # the keystore the node created is not in the distribution and so is kept.
    shutil.copytree(layout.es_home / "config", config, dirs_exist_ok=True)
    logs = node / "logs"
    # The distribution's jvm.options writes gc logs and crash files relative to the cwd.
    jvm_options = (layout.es_home / "config" / "jvm.options").read_text()
    jvm_options = re.sub(r"file=[^:]*gc\.log:", f"file={logs}/gc.log:", jvm_options)
    jvm_options = re.sub(r"filecount=\d+,filesize=\d+m", "filecount=2,filesize=16m", jvm_options)
    jvm_options = jvm_options.replace("-XX:ErrorFile=hs_err_pid%p.log", f"-XX:ErrorFile={logs}/hs_err_pid%p.log")
    (config / "jvm.options").write_text(jvm_options)
    (config / "jvm.options.d").mkdir(exist_ok=True)
    (config / "jvm.options.d" / "logferry.options").write_text(
        f"-Xms{layout.es_heap}\n-Xmx{layout.es_heap}\n-XX:HeapDumpPath={logs}\n"
    )
    (config / "elasticsearch.yml").write_text(
        f"""# Written by logferry scripts/services on every start: a single loopback test node.
cluster.name: logferry
node.name: logferry-es
path.data: {node / "data"}
path.logs: {logs}
network.host: {HOST}
http.port: {layout.es_port}
transport.port: {layout.es_transport_port}
discovery.type: single-node
# Loopback-only test node: no TLS, no users. Never expose this configuration.
xpack.security.enabled: false
# A busy shared disk must not flip test indices to read-only.
cluster.routing.allocation.disk.threshold_enabled: false
# Tests clean up with wildcard deletes (DELETE /t-1234-*).
action.destructive_requires_name: false
"""
    )
    if owner is not None:
        chown_tree(node, owner)
    return node


def start_elasticsearch(layout: Layout) -> None:
    pid = live_pid(layout.es_pid_file, "org.elasticsearch")
    if pid is not None and es_health(layout) in ("yellow", "green"):
        log(f"Elasticsearch already up at {layout.es_url} (pid {pid})")
        return
    if pid is None and port_open(layout.es_port):
        if es_health(layout) in ("yellow", "green"):
            log(f"Elasticsearch at {layout.es_url} is served by a process this script did not start; using it")
            return
        raise ServiceError(f"port {layout.es_port} is taken by something that is not a healthy Elasticsearch")
    if pid is None:
        es_home = fetch_elasticsearch(layout)
        java_home = choose_java_home(es_java_minimum(layout.es_version))
        install_root_endpoint(layout, java_home)
        owner = ensure_es_user(layout)
        node = configure_es_node(layout, owner)
        layout.es_pid_file.unlink(missing_ok=True)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "ES_JAVA_HOME": str(java_home),
            "ES_PATH_CONF": str(node / "config"),
            "ES_TMPDIR": str(node / "tmp"),
            "HOME": str(layout.es_root),
        }
        command = [str(es_home / "bin" / "elasticsearch"), "-d", "-p", str(layout.es_pid_file)]
        if owner is not None:
            command = ["setpriv", f"--reuid={owner[0]}", f"--regid={owner[1]}", "--init-groups", *command]
        log(f"starting Elasticsearch {layout.es_version} on {layout.es_url} (JDK {java_home.name}) ...")
        started = time.monotonic()
        with open(layout.es_launcher_log, "wb") as launcher_out:
            try:
                launcher = subprocess.run(
                    command,
                    env=env,
                    cwd=node,
                    stdin=subprocess.DEVNULL,
                    stdout=launcher_out,
                    stderr=subprocess.STDOUT,
                    timeout=layout.start_timeout,
                    preexec_fn=raise_open_files_limit,
                )
            except subprocess.TimeoutExpired:
                raise ServiceError(es_failure(layout, "the launcher did not return")) from None
        if launcher.returncode != 0:
            raise ServiceError(es_failure(layout, f"the launcher exited with {launcher.returncode}"))
    else:
        started = time.monotonic()
        log(f"Elasticsearch (pid {pid}) is running but not healthy yet; waiting")
    remaining = max(10.0, layout.start_timeout - (time.monotonic() - started))
    if not wait_for(lambda: es_health(layout) in ("yellow", "green"), remaining):
        raise ServiceError(es_failure(layout, f"cluster health not yellow/green within {remaining:.0f}s"))
    log(f"Elasticsearch {es_version_running(layout)} up at {layout.es_url} in {time.monotonic() - started:.1f}s")


def es_failure(layout: Layout, reason: str) -> str:
    return (
        f"Elasticsearch failed to start: {reason}\n"
        f"--- {layout.es_launcher_log}\n{tail(layout.es_launcher_log, 20)}\n"
        f"--- {layout.es_log_file}\n{tail(layout.es_log_file)}"
    )


def stop_elasticsearch(layout: Layout) -> None:
    pid = live_pid(layout.es_pid_file, "org.elasticsearch")
    if pid is None:
        log("Elasticsearch is not running (no live pid file)")
        return
    stop_process(pid, "Elasticsearch", grace=60.0)
    layout.es_pid_file.unlink(missing_ok=True)
    log("Elasticsearch stopped")


# ---------------------------------------------------------------- Kafka


def write_kafka_config(layout: Layout) -> Path:
    directory = layout.kafka_dir
    (directory / "data").mkdir(parents=True, exist_ok=True)
    (directory / "logs").mkdir(parents=True, exist_ok=True)
    properties = directory / "server.properties"
    properties.write_text(
        f"""# Written by logferry scripts/services: one KRaft node that is broker and controller.
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers={HOST}:{layout.kafka_controller_port}
listeners=PLAINTEXT://{HOST}:{layout.kafka_port},CONTROLLER://{HOST}:{layout.kafka_controller_port}
advertised.listeners=PLAINTEXT://{HOST}:{layout.kafka_port}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs={directory / "data"}
num.partitions=1
default.replication.factor=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
delete.topic.enable=true
"""
    )
    (directory / "log4j2.properties").write_text(
        f"""# Written by logferry scripts/services: the broker's own log.
status = warn
appender.server.type = File
appender.server.name = server
appender.server.fileName = {layout.kafka_log_file}
appender.server.layout.type = PatternLayout
appender.server.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.server.ref = server
logger.raft.name = org.apache.kafka.raft
logger.raft.level = WARN
logger.controller.name = org.apache.kafka.controller
logger.controller.level = WARN
"""
    )
    return properties


def kafka_java(layout: Layout, java_home: Path, main_class: str, *args: str) -> list[str]:
    return [
        str(java_home / "bin" / "java"),
        f"-Xms{layout.kafka_heap}",
        f"-Xmx{layout.kafka_heap}",
        "-XX:+UseG1GC",
        "-XX:MaxGCPauseMillis=20",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={layout.kafka_dir / 'log4j2.properties'}",
        f"-Dkafka.logs.dir={layout.kafka_dir / 'logs'}",
        "-cp",
        str(layout.kafka_lib / "*"),
        main_class,
        *args,
    ]


def format_kafka_storage(layout: Layout, java_home: Path, properties: Path) -> None:
    data = layout.kafka_dir / "data"
    if (data / "meta.properties").exists():
        return
    tool = "kafka.tools.StorageTool"
    cluster_id = subprocess.run(
        kafka_java(layout, java_home, tool, "random-uuid"), capture_output=True, text=True, check=True
    ).stdout.strip()
    result = subprocess.run(
        kafka_java(layout, java_home, tool, "format", "-t", cluster_id, "-c", str(properties), "--standalone"),
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise ServiceError(f"Kafka storage format failed:\n{result.stdout}\n{result.stderr}")
    log(f"formatted Kafka storage (cluster id {cluster_id})")


def kafka_client() -> Any:
    """confluent-kafka, the client logferry itself ships and indexes with (a runtime dependency, there
    after `scripts/demo`): the checks prove the broker answers the client the scale-out path uses."""
    try:
        import confluent_kafka
    except ImportError as error:
        raise ServiceError(
            f"confluent-kafka is needed for the Kafka checks; it comes with logferry: scripts/install ({error})"
        ) from error
    return confluent_kafka


def kafka_answers(layout: Layout) -> bool:
    """A cheap liveness probe: the broker answers a metadata request."""
    if not port_open(layout.kafka_port):
        return False
    from confluent_kafka.admin import AdminClient

    kafka_client()
    admin = AdminClient({"bootstrap.servers": layout.kafka_bootstrap, "log_level": 0})
    try:
        return bool(admin.list_topics(timeout=5).brokers)
    except Exception:  # KafkaException on timeout or a refused connection: not answering
        return False


def kafka_round_trip(layout: Layout) -> None:
    """Create a topic, produce with acks=all, consume it back, delete the topic."""
    kafka = kafka_client()
    from confluent_kafka.admin import AdminClient, NewTopic

    topic = HEALTH_TOPIC_PREFIX + uuid.uuid4().hex[:12]
    payload = f"logferry {topic}".encode()
    common: dict[str, str | int | float | bool] = {"bootstrap.servers": layout.kafka_bootstrap, "log_level": 0}
    admin = AdminClient(common)
    try:
        admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])[topic].result(timeout=30)
        producer = kafka.Producer({**common, "acks": "all", "retries": 5})
        delivered: list[Any] = []
        producer.produce(topic, payload, on_delivery=lambda error, _message: delivered.append(error))
        if producer.flush(30) or delivered != [None]:
            raise ServiceError(f"Kafka did not acknowledge a record on {topic}: {delivered}")
        consumer = kafka.Consumer(
            {**common, "group.id": topic, "auto.offset.reset": "earliest", "enable.auto.commit": False}
        )
        try:
            consumer.subscribe([topic])
            deadline = time.monotonic() + 30
            received = None
            while received is None and time.monotonic() < deadline:
                message = consumer.poll(1.0)
                if message is not None and message.error() is None:
                    received = message.value()
        finally:
            consumer.close()
        if received != payload:
            raise ServiceError(f"Kafka round trip on {topic} did not return the record produced")
    finally:
        with contextlib.suppress(Exception):
            admin.delete_topics([topic])[topic].result(timeout=30)


def start_kafka(layout: Layout) -> None:
    marker = "kafka.Kafka"
    pid = live_pid(layout.kafka_pid_file, marker)
    if pid is not None and kafka_answers(layout):
        log(f"Kafka already up at {layout.kafka_bootstrap} (pid {pid})")
        return
    if pid is None and port_open(layout.kafka_port):
        if kafka_answers(layout):
            log(f"Kafka at {layout.kafka_bootstrap} is served by a process this script did not start; using it")
            return
        raise ServiceError(f"port {layout.kafka_port} is taken by something that is not a Kafka broker")
    started = time.monotonic()
    if pid is None:
        if port_open(layout.kafka_controller_port):
            raise ServiceError(f"Kafka controller port {layout.kafka_controller_port} is already taken")
        fetch_kafka(layout)
        java_home = choose_java_home(17)
        properties = write_kafka_config(layout)
        format_kafka_storage(layout, java_home, properties)
        log(f"starting Kafka {layout.kafka_version} on {layout.kafka_bootstrap} (JDK {java_home.name}) ...")
        started = time.monotonic()
        with open(layout.kafka_stdout_file, "ab") as stdout:
            process = subprocess.Popen(
                kafka_java(layout, java_home, marker, str(properties)),
                cwd=layout.kafka_dir,
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        layout.kafka_pid_file.write_text(f"{process.pid}\n")
        pid = process.pid

    def ready() -> bool:
        if not Path(f"/proc/{pid}").exists() or _is_zombie(pid):
            raise ServiceError(kafka_failure(layout, "the broker process exited"))
        return kafka_answers(layout)

    if not wait_for(ready, layout.start_timeout, 1.0):
        raise ServiceError(kafka_failure(layout, f"no metadata answer within {layout.start_timeout:.0f}s"))
    try:
        kafka_round_trip(layout)
    except ServiceError:
        raise
    except Exception as error:
        raise ServiceError(kafka_failure(layout, f"produce/consume round trip failed: {error!r}")) from error
    log(f"Kafka {layout.kafka_version} up at {layout.kafka_bootstrap} in {time.monotonic() - started:.1f}s")


def kafka_failure(layout: Layout, reason: str) -> str:
    return (
        f"Kafka failed to start: {reason}\n"
        f"--- {layout.kafka_stdout_file}\n{tail(layout.kafka_stdout_file, 20)}\n"
        f"--- {layout.kafka_log_file}\n{tail(layout.kafka_log_file)}"
    )


def stop_kafka(layout: Layout) -> None:
    pid = live_pid(layout.kafka_pid_file, "kafka.Kafka")
    if pid is None:
        log("Kafka is not running (no live pid file)")
        return
    stop_process(pid, "Kafka", grace=60.0)
    layout.kafka_pid_file.unlink(missing_ok=True)
    log("Kafka stopped")


def kafka_version_running(layout: Layout, pid: int | None) -> str:
    if pid is not None:
        found = re.search(rf"kafka_{re.escape(SCALA_SUFFIX)}-([\w.\-]+?)/lib", process_cmdline(pid))
        if found:
            return found.group(1)
    return layout.kafka_version


# ---------------------------------------------------------------- Prometheus and Alertmanager (Debian's packages)

DEBIAN_PACKAGES = {"prometheus": "prometheus", "alertmanager": "prometheus-alertmanager"}
"""Service name -> the Debian package holding its binaries."""
BINARIES = {
    "prometheus": ("prometheus", "usr/bin/prometheus"),
    "promtool": ("prometheus", "usr/bin/promtool"),
    "alertmanager": ("prometheus-alertmanager", "usr/bin/prometheus-alertmanager"),
    "amtool": ("prometheus-alertmanager", "usr/bin/amtool"),
}
"""Binary name -> (package, path inside it)."""
RULES_FILE = SCRIPT_DIR.parent / "deploy" / "prometheus" / "rules.yml"


def fetch_debian_package(layout: Layout, package: str) -> Path:
    """``apt-get download`` the package (no installation, no root needed) and unpack it with ``dpkg-deb -x``.

    The Go binaries link only libc, so they run from the unpacked tree. The downloaded version is
    Debian's candidate (security updates included); `status` prints the version that runs.
    """
    root = layout.cache / "debian" / package
    marker = root / ".logferry-extracted"
    if marker.exists():
        return root
    downloads = layout.cache / "downloads" / "debian"
    downloads.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    log(f"fetching Debian's {package} with apt-get download ...")
    command = ["apt-get", "download", package]
    if os.geteuid() == 0:  # the _apt user cannot write into a cache under /root
        command[1:1] = ["-o", "APT::Sandbox::User=root"]
    result = subprocess.run(command, cwd=downloads, capture_output=True, text=True)
    if result.returncode != 0 and os.geteuid() == 0:
        subprocess.run(["apt-get", "update", "-qq"], capture_output=True, text=True)
        result = subprocess.run(command, cwd=downloads, capture_output=True, text=True)
    if result.returncode != 0:
        raise ServiceError(f"apt-get download {package} failed:\n{result.stdout}{result.stderr}")
    debs = sorted(downloads.glob(f"{package}_*.deb"), key=lambda deb: deb.stat().st_mtime)
    if not debs:
        raise ServiceError(f"apt-get download {package} left no {package}_*.deb in {downloads}")
    staging = root.with_name(root.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    subprocess.run(["dpkg-deb", "-x", str(debs[-1]), str(staging)], check=True, capture_output=True, text=True)
    shutil.rmtree(root, ignore_errors=True)
    staging.rename(root)
    marker.touch()
    log(f"fetched {debs[-1].name} in {time.monotonic() - started:.1f}s")
    return root


def binary_path(layout: Layout, name: str) -> Path:
    """A binary of the Prometheus packages, fetched when missing."""
    package, inside = BINARIES[name]
    root = fetch_debian_package(layout, package)
    if package == DEBIAN_PACKAGES["alertmanager"]:
        ensure_alertmanager_templates(layout)
    return root / inside


ALERTMANAGER_TEMPLATES = Path("/usr/share/prometheus/alertmanager")
"""Where Debian's Alertmanager reads its default notification templates: the path is built into the binary."""


def ensure_alertmanager_templates(layout: Layout) -> None:
    """Put the package's ``default.tmpl``/``email.tmpl`` where its binary looks for them (as dpkg would).

    Debian's build reads them from a fixed path instead of embedding them; without them Alertmanager
    refuses every config. Only those two files are copied, nothing else of the package is installed.
    """
    source = fetch_debian_package(layout, DEBIAN_PACKAGES["alertmanager"]) / str(ALERTMANAGER_TEMPLATES).lstrip("/")
    missing = [t.name for t in source.glob("*.tmpl") if not (ALERTMANAGER_TEMPLATES / t.name).exists()]
    if not missing:
        return
    if os.geteuid() != 0:
        raise ServiceError(
            f"Debian's Alertmanager reads {', '.join(missing)} from {ALERTMANAGER_TEMPLATES}: copy them there "
            f"from {source} (as root), or install the prometheus-alertmanager package"
        )
    ALERTMANAGER_TEMPLATES.mkdir(parents=True, exist_ok=True)
    for name in missing:
        shutil.copy2(source / name, ALERTMANAGER_TEMPLATES / name)
    log(f"copied {', '.join(missing)} to {ALERTMANAGER_TEMPLATES}")


def go_version(binary: Path) -> str | None:
    """The upstream version a Prometheus-project binary reports (``prometheus, version 2.42.0+ds ...``)."""
    try:
        result = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = re.search(r"version (\d+\.\d+\.\d+)", result.stdout + result.stderr)
    return found.group(1) if found else None


def http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return 200 <= response.status < 300
    except (OSError, urllib.error.URLError, ValueError):
        return False


@dataclass(frozen=True)
class GoServer:
    """Prometheus or Alertmanager on one loopback port: its state dir, config, pid file and command."""

    name: str
    layout: Layout

    @property
    def port(self) -> int:
        return self.layout.prometheus_port if self.name == "prometheus" else self.layout.alertmanager_port

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def directory(self) -> Path:
        return self.layout.state / f"{self.name}-{self.port}"

    @property
    def pid_file(self) -> Path:
        return self.directory / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return self.directory / f"{self.name}.log"

    @property
    def marker(self) -> str:
        """What the command line of our process holds (guards ``live_pid`` against pid reuse)."""
        return f"--web.listen-address={HOST}:{self.port}"

    def write_config(self) -> Path:
        """A loopback config: Prometheus scrapes itself and a local ``logferry run``/``serve`` (the API's
        /metrics on 127.0.0.1:8080), evaluates deploy/prometheus/rules.yml and alerts this Alertmanager;
        Alertmanager routes everything to a receiver that sends nothing (tests run their own)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        if self.name == "prometheus":
            # A copy: the server outlives this checkout (another worktree's `up` finds it running).
            shutil.copyfile(RULES_FILE, self.directory / "rules.yml")
            config = self.directory / "prometheus.yml"
            config.write_text(
                f"""# Written by logferry scripts/services; rules.yml is deploy/prometheus/rules.yml, copied at start.
global:
  scrape_interval: 15s
  evaluation_interval: 15s
rule_files:
  - rules.yml
alerting:
  alertmanagers:
    - static_configs:
        - targets: ["{HOST}:{self.layout.alertmanager_port}"]
scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ["{HOST}:{self.port}"]
  - job_name: logferry
    static_configs:
      - targets: ["{HOST}:8080"]
"""
            )
            return config
        config = self.directory / "alertmanager.yml"
        config.write_text(
            """# Written by logferry scripts/services.
route:
  receiver: blackhole
  group_by: [alertname]
receivers:
  - name: blackhole
"""
        )
        return config

    def command(self, binary: Path, config: Path) -> list[str]:
        if self.name == "prometheus":
            return [
                str(binary),
                f"--config.file={config}",
                f"--storage.tsdb.path={self.directory / 'data'}",
                self.marker,
                "--web.enable-lifecycle",
            ]
        return [
            str(binary),
            f"--config.file={config}",
            f"--storage.path={self.directory / 'data'}",
            self.marker,
            "--cluster.listen-address=",
        ]

    def ready(self) -> bool:
        return http_ok(f"{self.url}/-/ready")

    def start(self) -> None:
        pid = live_pid(self.pid_file, self.marker)
        if pid is not None and self.ready():
            log(f"{self.name} already up at {self.url} (pid {pid})")
            return
        if pid is None and port_open(self.port):
            if self.ready():
                log(f"{self.name} at {self.url} is served by a process this script did not start; using it")
                return
            raise ServiceError(f"port {self.port} is taken by something that is not {self.name}")
        started = time.monotonic()
        if pid is None:
            binary = binary_path(self.layout, self.name)
            config = self.write_config()
            log(f"starting {self.name} {go_version(binary)} on {self.url} ...")
            with open(self.log_file, "ab") as out:
                process = subprocess.Popen(
                    self.command(binary, config),
                    cwd=self.directory,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            self.pid_file.write_text(f"{process.pid}\n")
            pid = process.pid

        def ready() -> bool:
            if not Path(f"/proc/{pid}").exists() or _is_zombie(pid):
                raise ServiceError(f"{self.name} exited:\n--- {self.log_file}\n{tail(self.log_file)}")
            return self.ready()

        if not wait_for(ready, self.layout.start_timeout, 0.2):
            raise ServiceError(f"{self.name} not ready within {self.layout.start_timeout:.0f}s:\n{tail(self.log_file)}")
        log(f"{self.name} up at {self.url} in {time.monotonic() - started:.1f}s")

    def stop(self) -> None:
        pid = live_pid(self.pid_file, self.marker)
        if pid is None:
            log(f"{self.name} is not running (no live pid file)")
            return
        stop_process(pid, self.name, grace=30.0)
        self.pid_file.unlink(missing_ok=True)
        log(f"{self.name} stopped")

    def status_line(self) -> tuple[str, bool]:
        pid = live_pid(self.pid_file, self.marker)
        up = self.ready()
        package, inside = BINARIES[self.name]
        binary = self.layout.cache / "debian" / package / inside
        version = (go_version(binary) if binary.exists() else None) or "-"
        owner = f"pid {pid}" if pid else ("not started by this script" if up else "no process")
        return f"{self.name:<13} {version:<8} {self.url:<24} {'up' if up else 'down'} ({owner})", up


# ---------------------------------------------------------------- commands

SERVICES = ("es", "kafka", "prometheus", "alertmanager")


def selected(names: list[str]) -> list[str]:
    chosen = names or list(SERVICES)
    unknown = [name for name in chosen if name not in SERVICES]
    if unknown:
        raise ServiceError(f"unknown service {unknown}; choose from {SERVICES}")
    return chosen


def command_up(layout: Layout, names: list[str]) -> int:
    with exclusive_lock(layout):
        for name in selected(names):
            if name in DEBIAN_PACKAGES:
                GoServer(name, layout).start()
            else:
                start_elasticsearch(layout) if name == "es" else start_kafka(layout)
    return 0


def command_down(layout: Layout, names: list[str]) -> int:
    with exclusive_lock(layout):
        for name in selected(names):
            if name in DEBIAN_PACKAGES:
                GoServer(name, layout).stop()
            else:
                stop_elasticsearch(layout) if name == "es" else stop_kafka(layout)
    return 0


def command_fetch(layout: Layout, names: list[str]) -> int:
    with exclusive_lock(layout):
        for name in selected(names):
            if name in DEBIAN_PACKAGES:
                fetch_debian_package(layout, DEBIAN_PACKAGES[name])
            else:
                fetch_elasticsearch(layout) if name == "es" else fetch_kafka(layout)
    return 0


def command_bin(layout: Layout, names: list[str]) -> int:
    """Print the path of each named binary (fetching its package first): tests run private instances."""
    unknown = [name for name in names if name not in BINARIES]
    if not names or unknown:
        raise ServiceError(f"bin takes binary names from {sorted(BINARIES)}, got {names}")
    with exclusive_lock(layout):
        for name in names:
            print(binary_path(layout, name))
    return 0


def command_wipe(layout: Layout, names: list[str]) -> int:
    """Stop and delete data and logs (not the downloads): a fresh, empty node on next `up`."""
    with exclusive_lock(layout):
        for name in selected(names):
            if name in DEBIAN_PACKAGES:
                server = GoServer(name, layout)
                server.stop()
                shutil.rmtree(server.directory, ignore_errors=True)
            elif name == "es":
                stop_elasticsearch(layout)
                shutil.rmtree(layout.es_node_dir, ignore_errors=True)
            else:
                stop_kafka(layout)
                shutil.rmtree(layout.kafka_dir, ignore_errors=True)
            log(f"wiped {name} state")
    return 0


def command_status(layout: Layout, names: list[str]) -> int:
    all_up = True
    for name in selected(names):
        if name in DEBIAN_PACKAGES:
            line, up = GoServer(name, layout).status_line()
            print(line)
        elif name == "es":
            pid = live_pid(layout.es_pid_file, "org.elasticsearch")
            health = es_health(layout)
            version = es_version_running(layout) or layout.es_version
            up = health in ("yellow", "green")
            detail = f"up, cluster {health}" if up else ("running, not healthy" if pid else "down")
            owner = f"pid {pid}" if pid else ("not started by this script" if up else "no process")
            print(f"elasticsearch {version:<8} {layout.es_url:<24} {detail} ({owner})")
        else:
            pid = live_pid(layout.kafka_pid_file, "kafka.Kafka")
            up = kafka_answers(layout)
            version = kafka_version_running(layout, pid)
            owner = f"pid {pid}" if pid else ("not started by this script" if up else "no process")
            print(f"kafka         {version:<8} {layout.kafka_bootstrap:<24} {'up' if up else 'down'} ({owner})")
        all_up = all_up and up
    return 0 if all_up else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/services",
        description="Real Elasticsearch, Kafka, Prometheus and Alertmanager on 127.0.0.1 for logferry's tests.",
        epilog=ENV_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "command",
        choices=["up", "down", "status", "fetch", "wipe", "bin", "start-es", "stop-es", "start-kafka", "stop-kafka"],
    )
    parser.add_argument(
        "services", nargs="*", metavar="es|kafka|prometheus|alertmanager", help="default: all four (bin: binaries)"
    )
    args = parser.parse_args(argv)
    layout = Layout.from_env()
    shorthand = {
        "start-es": ("up", ["es"]),
        "stop-es": ("down", ["es"]),
        "start-kafka": ("up", ["kafka"]),
        "stop-kafka": ("down", ["kafka"]),
    }
    command, names = shorthand.get(args.command, (args.command, args.services))
    handlers = {
        "up": command_up,
        "down": command_down,
        "status": command_status,
        "fetch": command_fetch,
        "wipe": command_wipe,
        "bin": command_bin,
    }
    try:
        return handlers[command](layout, names)
    except ServiceError as error:
        log(f"error: {error}")
        return 2
    except subprocess.CalledProcessError as error:
        log(f"error: {error}\n{error.stdout or ''}{error.stderr or ''}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
