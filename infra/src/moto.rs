//! Starting moto (PyPI `moto[server]`), the local AWS, on a free port.
//!
//! moto serves each request on its own thread, and its DynamoDB checks a condition and writes in
//! two steps without a lock, so two concurrent conditional writes (or transactions) can both
//! succeed where DynamoDB lets only one; and it applies an update to the stored item action by
//! action, so a read beside it can see half an item. The server is therefore started through a
//! small launcher that runs DynamoDB requests one at a time: the atomicity every uniqueness,
//! claim and single-use guarantee of the platform relies on, and every read of a whole item,
//! hold locally as they do on AWS. The launcher also keeps moto's transactions from copying
//! whole tables, which made every transaction slower as the table grew.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running moto server; killed when dropped.
pub struct Moto {
    child: Child,
    pub url: String,
}

/// moto's own server, with DynamoDB's requests serialized and transactions backing up only the
/// items they name (see the script's comments).
const LAUNCHER: &str = include_str!("moto_launcher.py");

/// A free loopback port (bound then released; fine for a local runner).
pub fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}

impl Moto {
    /// Starts `python3 -m moto.server` and waits until it accepts connections. `watch_pid`,
    /// when given, makes the server exit when that process does (tests cannot run
    /// destructors for statics, so the server watches its parent instead).
    pub fn start(watch_pid: Option<u32>) -> std::io::Result<Moto> {
        let port = free_port()?;
        let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
        let script = r#"
"$0" -c "$3" "$1" >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null' EXIT TERM INT
if [ -n "$2" ]; then
  while kill -0 "$2" 2>/dev/null && kill -0 $server 2>/dev/null; do sleep 1; done
else
  wait $server
fi
"#;
        let child = Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg(python)
            .arg(port.to_string())
            .arg(watch_pid.map(|p| p.to_string()).unwrap_or_default())
            .arg(LAUNCHER)
            .stdin(Stdio::null())
            .spawn()?;
        let mut moto = Moto {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            if Instant::now() > deadline || moto.child.try_wait()?.is_some() {
                return Err(std::io::Error::other(
                    "moto_server did not start: is `moto[server]` installed (pip install 'moto[server]')?",
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(moto)
    }

    /// Leaves the server running after this handle is gone (for a process-wide server).
    pub fn detach(self) -> String {
        let url = self.url.clone();
        std::mem::forget(self);
        url
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        // SIGTERM to the wrapper shell runs its trap, which stops the server.
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}
