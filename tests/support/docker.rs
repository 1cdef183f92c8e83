//! The real Docker engine for the deployment tests, with no registry: images made from local files (`docker
//! import` of a tarball holding a binary and the shared libraries `ldd` lists), the runbook's deployment (the
//! proxy network, Caddy, `oews-prod`) under a per-test name prefix, and a [`Scope`] that removes every
//! container, network and image the test made when it ends, also when it fails.
#![allow(dead_code)]

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant, UNIX_EPOCH};

/// The repository of the real service's images; the stand-in images are tagged like them.
pub const OEWS_IMAGE: &str = "ghcr.io/varunr89/oews";

/// The Caddyfile baked into the Caddy image: the runbook's proxy, to `oews-prod:8000` by name on the proxy
/// network (`OEWS_UPSTREAM` names the container when a test prefixes the names). Upstream connections are
/// kept 2 s, not Caddy's default 2 min: a request on a connection kept from before `oews-prod` left the
/// network would hang until the client's timeout, where a new connection fails to resolve the name at once
/// and Caddy answers 502.
pub const CADDYFILE: &str = "{\n\tadmin off\n\tauto_https off\n}\n:80 {\n\treverse_proxy {$OEWS_UPSTREAM:oews-prod:8000} {\n\t\tlb_try_duration 0s\n\t\ttransport http {\n\t\t\tkeepalive 2s\n\t\t}\n\t}\n}\n";

/// Runs `docker ARGS` and returns its output, whatever its status.
pub fn docker_output(args: &[&str]) -> Output {
    Command::new("docker")
        .args(args)
        .env("DOCKER_BUILDKIT", "0")
        .stdin(Stdio::null())
        .output()
        .expect(
            "the docker CLI must be on PATH (the machine's Docker engine; scripts/test checks it)",
        )
}

/// Runs `docker ARGS`, asserting success; returns its stdout, trimmed.
pub fn docker(args: &[&str]) -> String {
    let out = docker_output(args);
    assert!(
        out.status.success(),
        "docker {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Fails at once, saying what to do, when the Docker engine does not answer.
fn engine_answers() {
    static CHECKED: OnceLock<()> = OnceLock::new();
    CHECKED.get_or_init(|| {
        let out = docker_output(&["info", "--format", "{{.ServerVersion}}"]);
        assert!(
            out.status.success(),
            "the Docker engine does not answer (docker info): these tests need it running\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    });
}

/// Seven random hex digits, like a short commit sha.
pub fn short_sha() -> String {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    format!("{:07x}", hasher.finish() & 0xfff_ffff)
}

/// A key for a file's version: its length and modification time, so a rebuilt binary gets a new image.
fn file_key(path: &Path) -> String {
    let meta = std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let modified = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    let mut hasher = std::hash::DefaultHasher::new();
    hasher.write_u64(meta.len());
    hasher.write_u128(modified);
    format!("{:016x}", hasher.finish())
}

/// The image `repo:SOURCE-KEY`, made once by `docker import` of `binary` (at `/NAME`), the libraries `ldd` lists
/// for it, `/etc/passwd`, `/tmp` and `files` (path in the image, contents), with `changes` (Dockerfile lines).
/// SOURCE names where the binary lives (a checkout's target directory), KEY its version, `files` and `changes`.
/// An image of the same tag is reused: it is the cache, kept by the engine across test runs. Older keys of the
/// same SOURCE are removed; another checkout's images are left alone, since its tests may be using them.
fn imported_image(repo: &str, binary: &Path, files: &[(&str, &str)], changes: &[&str]) -> String {
    let mut hasher = std::hash::DefaultHasher::new();
    hasher.write(file_key(binary).as_bytes());
    for (path, text) in files {
        hasher.write(path.as_bytes());
        hasher.write(text.as_bytes());
    }
    for change in changes {
        hasher.write(change.as_bytes());
    }
    let mut source = std::hash::DefaultHasher::new();
    source.write(binary.as_os_str().as_encoded_bytes());
    let source = format!("{:08x}", source.finish() & 0xffff_ffff);
    let reference = format!("{repo}:{source}-{:016x}", hasher.finish());
    if docker_output(&["image", "inspect", &reference])
        .status
        .success()
    {
        return reference;
    }
    let root = tempfile::tempdir().expect("tempdir");
    let put = |path: &str, from: &Path| {
        let to = root.path().join(path.trim_start_matches('/'));
        std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
        std::fs::copy(from, &to).unwrap_or_else(|e| panic!("copy {}: {e}", from.display()));
    };
    let name = binary.file_name().expect("file name").to_string_lossy();
    put(&name, binary);
    let ldd = Command::new("ldd").arg(binary).output().expect("ldd");
    for library in String::from_utf8_lossy(&ldd.stdout)
        .split_whitespace()
        .filter(|word| word.starts_with('/'))
    {
        put(library, Path::new(library));
    }
    for (path, text) in files {
        let to = root.path().join(path.trim_start_matches('/'));
        std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
        std::fs::write(to, text).expect("write");
    }
    let etc = root.path().join("etc");
    std::fs::create_dir_all(&etc).expect("etc");
    std::fs::write(
        etc.join("passwd"),
        "root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n",
    )
    .expect("passwd");
    std::fs::create_dir_all(root.path().join("tmp")).expect("tmp");
    import_root(root.path(), &reference, changes);
    let same_source = format!("{repo}:{source}-");
    for old in docker(&["images", repo, "--format", "{{.Repository}}:{{.Tag}}"]).lines() {
        if old != reference && old.starts_with(&same_source) {
            let _ = docker_output(&["rmi", old]);
        }
    }
    reference
}

/// `docker import` of the folder `root` as `reference`, with `changes` (Dockerfile lines).
fn import_root(root: &Path, reference: &str, changes: &[&str]) {
    let mut tar = Command::new("tar")
        .arg("-C")
        .arg(root)
        .args(["-c", "."])
        .stdout(Stdio::piped())
        .spawn()
        .expect("tar");
    let mut import = Command::new("docker");
    import.arg("import");
    for change in changes {
        import.args(["--change", change]);
    }
    let out = import
        .args(["-", reference])
        .stdin(tar.stdout.take().expect("tar stdout"))
        .output()
        .expect("docker import");
    let tarred = tar.wait().expect("tar");
    assert!(
        tarred.success() && out.status.success(),
        "tar ({tarred}) | docker import {reference}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The base of the stand-in API images: this build's `oewsprobe` (debug info stripped) and its libraries.
pub fn sim_base() -> String {
    static BASE: OnceLock<String> = OnceLock::new();
    BASE.get_or_init(|| {
        engine_answers();
        let stripped = stripped_binary();
        imported_image(
            "oewsprobe-test/sim-base",
            &stripped,
            &[],
            &["ENTRYPOINT [\"/oewsprobe\"]"],
        )
    })
    .clone()
}

/// `oewsprobe` without its debug info, beside the test binary's target directory (rebuilt when it changes).
pub fn stripped_binary() -> PathBuf {
    let bin = Path::new(super::process::BIN);
    let dir = bin
        .parent()
        .expect("target dir")
        .join("docker-cache")
        .join(file_key(bin));
    let stripped = dir.join("oewsprobe");
    if !stripped.exists() {
        std::fs::create_dir_all(&dir).expect("docker-cache");
        let partial = dir.join(format!("oewsprobe.{}", std::process::id()));
        let status = Command::new("objcopy")
            .arg("--strip-debug")
            .arg(bin)
            .arg(&partial)
            .status()
            .expect("objcopy (binutils)");
        assert!(status.success(), "objcopy --strip-debug failed");
        std::fs::rename(&partial, &stripped).expect("rename");
    }
    stripped
}

/// The Caddy image: Debian's `caddy` binary, its libraries and [`CADDYFILE`], serving on port 80.
pub fn caddy_image() -> String {
    static IMAGE: OnceLock<String> = OnceLock::new();
    IMAGE
        .get_or_init(|| {
            engine_answers();
            let caddy = which("caddy")
                .expect("caddy is not installed: apt-get install caddy (scripts/test installs it)");
            imported_image(
                "oewsprobe-test/caddy",
                &caddy,
                &[("/etc/caddy/Caddyfile", CADDYFILE)],
                &[
                    "ENV HOME=/tmp XDG_DATA_HOME=/tmp XDG_CONFIG_HOME=/tmp",
                    "ENTRYPOINT [\"/caddy\", \"run\", \"--adapter\", \"caddyfile\", \"--config\", \"/etc/caddy/Caddyfile\"]",
                ],
            )
        })
        .clone()
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|path| path.is_file())
    })
}

/// The base image `deploy/Dockerfile` names: a minimal Debian 12 root filesystem made by `debootstrap` (with
/// `ca-certificates`) from the Debian mirror this machine's apt is configured with, imported under that tag.
/// Made once per engine: an image already there under the tag (made here, or the real one) is used as it is.
pub fn debian_base() -> String {
    const TAG: &str = "debian:bookworm-slim";
    static BASE: OnceLock<String> = OnceLock::new();
    BASE.get_or_init(|| {
        engine_answers();
        if docker_output(&["image", "inspect", TAG]).status.success() {
            return TAG.to_string();
        }
        let indextargets = Command::new("apt-get")
            .args(["indextargets", "--format", "$(REPO_URI) $(RELEASE)"])
            .output()
            .expect("apt-get");
        let listing = String::from_utf8_lossy(&indextargets.stdout);
        let mirror = listing
            .lines()
            .find_map(|line| line.strip_suffix(" bookworm"))
            .unwrap_or_else(|| panic!("apt has no bookworm repository configured (apt-get update first?):\n{listing}"))
            .to_string();
        let root = tempfile::tempdir().expect("tempdir");
        let out = Command::new("debootstrap")
            .args(["--variant=minbase", "--include=ca-certificates", "bookworm"])
            .arg(root.path())
            .arg(&mirror)
            .output()
            .expect("debootstrap is not installed: apt-get install debootstrap (scripts/test installs it)");
        assert!(
            out.status.success(),
            "debootstrap failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        for bulk in ["var/cache/apt/archives", "var/lib/apt/lists", "usr/share/doc", "usr/share/man", "usr/share/locale"] {
            let _ = std::fs::remove_dir_all(root.path().join(bulk));
        }
        import_root(root.path(), TAG, &["CMD [\"bash\"]"]);
        TAG.to_string()
    })
    .clone()
}

/// Everything one test makes on the engine: container, network and volume names start with `prefix`; the
/// images it tagged are listed. Dropping it removes them all.
pub struct Scope {
    pub prefix: String,
    images: Mutex<Vec<String>>,
}

impl Default for Scope {
    fn default() -> Self {
        Scope::new()
    }
}

impl Scope {
    pub fn new() -> Scope {
        engine_answers();
        Scope {
            prefix: format!("oewsprobe-t{}", short_sha()),
            images: Mutex::new(Vec::new()),
        }
    }

    /// `PREFIX-what`: a container or network name of this test.
    pub fn name(&self, what: &str) -> String {
        format!("{}-{what}", self.prefix)
    }

    /// A stand-in API image `ghcr.io/varunr89/oews:main-SHA` (a fresh random sha) running `oewsprobe sim` on
    /// port 8000 with `faults`; removed with the scope.
    pub fn api_image(&self, faults: &[&str]) -> String {
        let tag = format!("main-{}", short_sha());
        let reference = format!("{OEWS_IMAGE}:{tag}");
        let mut command = vec!["sim", "--listen", "0.0.0.0:8000"];
        for fault in faults {
            command.extend(["--fault", fault]);
        }
        let cmd = serde_json::to_string(&command).expect("json");
        let dockerfile = format!(
            "FROM {}\nLABEL oewsprobe.test={}\nCMD {cmd}\n",
            sim_base(),
            self.prefix
        );
        self.build(&reference, &dockerfile);
        reference
    }

    /// `docker build -t reference` of `dockerfile` with an empty context; the image is removed with the scope.
    pub fn build(&self, reference: &str, dockerfile: &str) {
        self.images
            .lock()
            .expect("images")
            .push(reference.to_string());
        let mut child = Command::new("docker")
            .args(["build", "-q", "-t", reference, "-"])
            .env("DOCKER_BUILDKIT", "0")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("docker build");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(dockerfile.as_bytes())
            .expect("write the Dockerfile");
        let out = child.wait_with_output().expect("docker build");
        assert!(
            out.status.success(),
            "docker build {reference}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Records an image made otherwise (e.g. by `docker tag`) for removal with the scope.
    pub fn owns_image(&self, reference: &str) {
        self.images
            .lock()
            .expect("images")
            .push(reference.to_string());
    }

    /// The host port on 127.0.0.1 that `container`'s `port` is published on.
    pub fn published_port(&self, container: &str, port: u16) -> u16 {
        let mapping = docker(&["port", container, &format!("{port}/tcp")]);
        mapping
            .lines()
            .find_map(|line| line.strip_prefix("127.0.0.1:"))
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| {
                panic!("{container}:{port} is not published on 127.0.0.1: {mapping}")
            })
    }

    /// Containers of this scope (any state), by name.
    pub fn containers(&self) -> Vec<String> {
        docker(&[
            "ps",
            "-a",
            "--filter",
            &format!("name=^{}-", self.prefix),
            "--format",
            "{{.Names}}",
        ])
        .lines()
        .map(str::to_string)
        .collect()
    }

    /// The image `container` runs, as its reference (`repo:tag`).
    pub fn image_of(&self, container: &str) -> String {
        docker(&["inspect", "--format", "{{.Config.Image}}", container])
    }

    /// Whether `container` is running.
    pub fn running(&self, container: &str) -> bool {
        docker_output(&["inspect", "--format", "{{.State.Running}}", container])
            .stdout
            .starts_with(b"true")
    }

    /// The networks `container` is attached to.
    pub fn networks_of(&self, container: &str) -> Vec<String> {
        docker(&[
            "inspect",
            "--format",
            "{{range $name, $_ := .NetworkSettings.Networks}}{{$name}} {{end}}",
            container,
        ])
        .split_whitespace()
        .map(str::to_string)
        .collect()
    }
}

impl Drop for Scope {
    fn drop(&mut self) {
        let filter = format!("name=^{}-", self.prefix);
        let containers = docker_output(&["ps", "-aq", "--filter", &filter]);
        for id in String::from_utf8_lossy(&containers.stdout).split_whitespace() {
            let _ = docker_output(&["rm", "-f", "-v", id]);
        }
        let volumes = docker_output(&["volume", "ls", "-q", "--filter", &filter]);
        for name in String::from_utf8_lossy(&volumes.stdout).split_whitespace() {
            let _ = docker_output(&["volume", "rm", "-f", name]);
        }
        let networks = docker_output(&["network", "ls", "-q", "--filter", &filter]);
        for id in String::from_utf8_lossy(&networks.stdout).split_whitespace() {
            let _ = docker_output(&["network", "rm", id]);
        }
        for image in self.images.lock().map(|i| i.clone()).unwrap_or_default() {
            let _ = docker_output(&["rmi", &image]);
        }
    }
}

/// The runbook's deployment (Tasks 7–10) under a scope's prefix: the proxy network, Caddy on it published on
/// 127.0.0.1, and `oews-prod` from an image with the runbook's flags (name, port, read-only data mount, env
/// file, restart policy), connected to the network.
pub struct Deployment {
    pub scope: Scope,
    pub network: String,
    pub container: String,
    pub caddy: String,
    /// Caddy's port on 127.0.0.1: the target the monitor watches.
    pub proxy_port: u16,
    /// `oews-prod`'s port 8000, published on 127.0.0.1.
    pub app_port: u16,
    pub data_dir: tempfile::TempDir,
    pub env_file: PathBuf,
}

impl Deployment {
    /// The network, Caddy, and `oews-prod` running `image`.
    pub fn start(scope: Scope, image: &str) -> Deployment {
        let network = scope.name("oews_default");
        let container = scope.name("oews-prod");
        let caddy = scope.name("caddy");
        docker(&["network", "create", &network]);
        docker(&[
            "run",
            "-d",
            "--name",
            &caddy,
            "--network",
            &network,
            // Names Docker's DNS cannot answer (oews-prod off the network) are forwarded to the container's
            // resolvers: here none, so a lookup fails at once and no query leaves the machine.
            "--dns",
            "127.0.0.1",
            "-e",
            &format!("OEWS_UPSTREAM={container}:8000"),
            "-p",
            "127.0.0.1::80",
            &caddy_image(),
        ]);
        let proxy_port = scope.published_port(&caddy, 80);
        let data_dir = tempfile::tempdir().expect("data dir");
        std::fs::write(data_dir.path().join("oews.duckdb"), "stand-in data\n").expect("data");
        let env_file = data_dir.path().join("oews.env");
        std::fs::write(&env_file, "OEWS_ENV=production\n").expect("env file");
        let app_port = super::servers::free_port();
        let deployment = Deployment {
            scope,
            network,
            container,
            caddy,
            proxy_port,
            app_port,
            data_dir,
            env_file,
        };
        deployment.deploy(image);
        deployment.wait_serving(Duration::from_secs(30));
        deployment
    }

    /// A scope's good stand-in image and a bad one (every request answers 500), and the deployment running
    /// `bad` (when `on_bad`) or `good`: (deployment, good, bad).
    pub fn with_good_and_bad(on_bad: bool) -> (Deployment, String, String) {
        let scope = Scope::new();
        let good = scope.api_image(&[]);
        let bad = scope.api_image(&["error500"]);
        let deployment = Deployment::start(scope, if on_bad { &bad } else { &good });
        (deployment, good, bad)
    }

    /// The runbook's deploy of `image`: stop and remove `oews-prod` (if any), run the new one with the same
    /// flags, connect it to the proxy network.
    pub fn deploy(&self, image: &str) {
        let _ = docker_output(&["stop", &self.container]);
        let _ = docker_output(&["rm", &self.container]);
        let publish = format!("127.0.0.1:{}:8000", self.app_port);
        let mount = format!("{}:/app/data:ro", self.data_dir.path().display());
        let env_file = self.env_file.display().to_string();
        docker(&[
            "run",
            "-d",
            "--name",
            &self.container,
            "--restart",
            "unless-stopped",
            "-p",
            &publish,
            "-v",
            &mount,
            "--env-file",
            &env_file,
            image,
        ]);
        docker(&["network", "connect", &self.network, &self.container]);
    }

    /// The proxy's URL: what the monitor watches.
    pub fn target(&self) -> String {
        format!("http://127.0.0.1:{}", self.proxy_port)
    }

    /// Waits until `GET /health` through Caddy answers 200.
    pub fn wait_healthy(&self, timeout: Duration) {
        self.wait_for("200", timeout, |status| status == 200);
    }

    /// Waits until `oews-prod` answers through Caddy (a status other than the proxy's own 502 or 504).
    pub fn wait_serving(&self, timeout: Duration) {
        self.wait_for("its own answer", timeout, |status| {
            status != 502 && status != 504
        });
    }

    fn wait_for(&self, what: &str, timeout: Duration, done: impl Fn(u16) -> bool) {
        let deadline = Instant::now() + timeout;
        loop {
            if self.proxy_status("/health").is_some_and(&done) {
                return;
            }
            let logs = docker_output(&["logs", &self.container]);
            assert!(
                Instant::now() < deadline,
                "{} did not give {what} through Caddy within {timeout:?}; logs:\n{}{}",
                self.container,
                String::from_utf8_lossy(&logs.stdout),
                String::from_utf8_lossy(&logs.stderr)
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The status of `GET path` through Caddy, or `None` when nothing answered.
    pub fn proxy_status(&self, path: &str) -> Option<u16> {
        use std::io::{Read, Write};
        let addr = format!("127.0.0.1:{}", self.proxy_port);
        let mut stream = std::net::TcpStream::connect(&addr).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )
        .ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).ok()?;
        response.split(' ').nth(1)?.parse().ok()
    }

    /// The environment settings of `deploy/rollback-docker.sh` for this deployment.
    pub fn hook_settings(&self) -> Vec<(String, String)> {
        vec![
            ("OEWS_IMAGE".into(), OEWS_IMAGE.into()),
            ("OEWS_CONTAINER".into(), self.container.clone()),
            ("OEWS_NETWORK".into(), self.network.clone()),
            (
                "OEWS_DATA_DIR".into(),
                self.data_dir.path().display().to_string(),
            ),
            ("OEWS_ENV_FILE".into(), self.env_file.display().to_string()),
            (
                "OEWS_PUBLISH".into(),
                format!("127.0.0.1:{}:8000", self.app_port),
            ),
            (
                "OEWS_HEALTH_URL".into(),
                format!("http://127.0.0.1:{}/health", self.app_port),
            ),
            ("OEWS_HEALTH_TRIES".into(), "30".into()),
            ("OEWS_HEALTH_INTERVAL".into(), "0.5".into()),
        ]
    }
}
