//! Test support: a Tuilerie server on an ephemeral port, in-process, and a
//! minimal HTTP/1.1 client (hyper's) to talk to it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper::{HeaderMap, Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tuilerie_engine::catalog::LoadFailure;
use tuilerie_server::{build_catalog, serve, AppState, ConfigFile, Settings};

/// The repository's `data-samples/` folder.
pub fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../data-samples")
}

/// A file of `data-samples/`.
pub fn sample(name: &str) -> PathBuf {
    samples().join(name)
}

/// The hostile-file corpus, `tests/hostile/`.
pub fn hostile(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("hostile")
        .join(name)
}

/// The reference record of `tests/fixtures/tiles.json`.
pub fn reference() -> serde_json::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/tiles.json");
    serde_json::from_slice(&std::fs::read(path).expect("fixture")).expect("fixture JSON")
}

/// A running server; stops when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    pub failures: Vec<LoadFailure>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl TestServer {
    /// Serves `paths` with the configuration `toml` (relative paths in it
    /// are relative to `data-samples/`).
    pub async fn start(toml: &str, paths: &[PathBuf]) -> TestServer {
        let dir = std::env::temp_dir().join(format!("tuilerie-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // One file per server: two tests with the same configuration run
        // at once, and one must not read the file while the other rewrites it.
        static SERVERS: AtomicUsize = AtomicUsize::new(0);
        let n = SERVERS.fetch_add(1, Ordering::Relaxed);
        let file = dir.join(format!("{n}.toml"));
        let toml = toml.replace("@SAMPLES@", &samples().display().to_string());
        std::fs::write(&file, toml).unwrap();
        let config = ConfigFile::load(&file).expect("test config");
        let (catalog, failures) = build_catalog(&config, paths);
        let sets = config
            .tile_matrix_sets(&file)
            .expect("test tile matrix sets");
        let state = Arc::new(AppState::new(catalog, sets, Settings::from_config(&config)));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(serve(listener, state, async move {
            let _ = stopped.await;
        }));
        TestServer {
            addr,
            failures,
            _stop: stop,
        }
    }

    /// Serves the sample folder with default settings.
    pub async fn samples() -> TestServer {
        TestServer::start("", &[samples()]).await
    }

    /// The `[west, south, east, north]` bounds `layer`'s TileJSON states.
    pub async fn bounds(&self, layer: &str) -> [f64; 4] {
        let tilejson = self.get(&format!("/{layer}")).await.json();
        [0, 1, 2, 3].map(|i| {
            tilejson["bounds"][i]
                .as_f64()
                .unwrap_or_else(|| panic!("{layer}: bounds {}", tilejson["bounds"]))
        })
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.request(Method::GET, path, &[]).await
    }

    pub async fn request(&self, method: Method, path: &str, headers: &[(&str, &str)]) -> Reply {
        self.send(method, path, headers, Bytes::new()).await
    }

    /// A POST of `body` with its media type.
    pub async fn post(&self, path: &str, content_type: &str, body: impl Into<Bytes>) -> Reply {
        self.send(
            Method::POST,
            path,
            &[("content-type", content_type)],
            body.into(),
        )
        .await
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Bytes,
    ) -> Reply {
        let stream = TcpStream::connect(self.addr).await.unwrap();
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(conn);
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("host", self.addr.to_string());
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let response = if body.is_empty() {
            sender.send_request(req.body(Empty::<Bytes>::new().boxed()).unwrap())
        } else {
            sender.send_request(req.body(Full::new(body).boxed()).unwrap())
        }
        .await
        .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        Reply {
            status,
            headers,
            body,
        }
    }

    /// Sends raw bytes and returns the raw reply (for requests a
    /// well-behaved client cannot build).
    pub async fn raw(&self, request: &[u8]) -> String {
        let mut stream = TcpStream::connect(self.addr).await.unwrap();
        stream.write_all(request).await.unwrap();
        let mut out = Vec::new();
        let read = stream.read_to_end(&mut out);
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), read).await;
        String::from_utf8_lossy(&out).into_owned()
    }
}

/// A reply, fully read.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(&self.body)))
    }

    /// The `error` message of a JSON error reply.
    pub fn error(&self) -> String {
        self.json()["error"]
            .as_str()
            .expect("error message")
            .to_owned()
    }
}

/// SHA-256 in hex, as the reference record stores it.
pub fn sha256(data: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Log lines (INFO and above, without colours) written on this thread
/// while the guard lives: tasks of a current-thread runtime included.
pub fn capture_logs() -> (tracing::subscriber::DefaultGuard, Logs) {
    let logs = Logs::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(logs.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    (tracing::subscriber::set_default(subscriber), logs)
}

/// What [`capture_logs`] captured.
#[derive(Clone, Default)]
pub struct Logs(Arc<std::sync::Mutex<Vec<u8>>>);

impl Logs {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Logs {
    type Writer = Logs;

    fn make_writer(&'a self) -> Logs {
        self.clone()
    }
}

/// `data` gunzipped (with flate2, not the engine's decoder).
pub fn gunzip(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(data), &mut out).unwrap();
    out
}

/// A file of `tests/fixtures/`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

/// A small deterministic generator (xorshift64), so a failure found with
/// random input can be replayed from its seed.
pub struct XorShift(pub u64);

impl XorShift {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Decodes a PNG of any colour type to RGBA (grey, grey + alpha, RGB).
pub fn png_rgba(bytes: &[u8]) -> Vec<u8> {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    match info.color_type {
        png::ColorType::Rgba => buf,
        png::ColorType::Rgb => buf
            .chunks_exact(3)
            .flat_map(|p| [p[0], p[1], p[2], 255])
            .collect(),
        png::ColorType::GrayscaleAlpha => buf
            .chunks_exact(2)
            .flat_map(|p| [p[0], p[0], p[0], p[1]])
            .collect(),
        _ => buf.iter().flat_map(|&g| [g, g, g, 255]).collect(),
    }
}

/// A reply's body as text.
pub fn text(r: &Reply) -> String {
    String::from_utf8_lossy(&r.body).into_owned()
}

/// The `code` of a service exception report, after checking its form.
pub fn wms_exception_code(r: &Reply, version: &str) -> String {
    assert_eq!(r.status, StatusCode::OK, "{}", text(r));
    let body = text(r);
    let content_type = if version == "1.3.0" {
        "text/xml"
    } else {
        "application/vnd.ogc.se_xml"
    };
    assert_eq!(r.header("content-type"), Some(content_type), "{body}");
    assert!(
        body.contains(&format!("<ServiceExceptionReport version=\"{version}\"")),
        "{body}"
    );
    body.split("code=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no code in {body}"))
        .to_owned()
}
