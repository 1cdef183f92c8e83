//! systemd's notify protocol (`sd_notify`): one datagram per state to the Unix socket named by
//! `NOTIFY_SOCKET` (a path, or `@name` for an abstract socket), when the service manager set it.

use std::ffi::OsStr;
use std::os::unix::net::UnixDatagram;
use std::time::Duration;

/// The service is up (after the first plan started).
pub const READY: &str = "READY=1";
/// The service is stopping.
pub const STOPPING: &str = "STOPPING=1";

/// The state asking systemd to wait `wait` more from now before it kills the stopping service.
pub fn extend_timeout(wait: Duration) -> String {
    format!("EXTEND_TIMEOUT_USEC={}", wait.as_micros())
}

/// Sends `state` to `NOTIFY_SOCKET` when it is set; a failure is logged, never fatal.
pub fn notify(state: &str) {
    let Some(socket) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    if let Err(e) = send(&socket, state) {
        tracing::warn!(socket = %socket.to_string_lossy(), error = %e, "cannot notify systemd");
    }
}

/// Sends `state` as one datagram to `socket`.
pub fn send(socket: &OsStr, state: &str) -> std::io::Result<()> {
    let sender = UnixDatagram::unbound()?;
    let bytes = socket.as_encoded_bytes();
    if let Some(name) = bytes.strip_prefix(b"@") {
        use std::os::linux::net::SocketAddrExt;
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
        sender.send_to_addr(state.as_bytes(), &addr)?;
    } else {
        sender.send_to(state.as_bytes(), socket)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_reach_a_unix_datagram_socket_by_path_and_by_abstract_name() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("notify.sock");
        let receiver = UnixDatagram::bind(&path).expect("bind");
        send(path.as_os_str(), READY).expect("send");
        send(
            path.as_os_str(),
            &extend_timeout(Duration::from_millis(1_500)),
        )
        .expect("send");
        let mut buf = [0u8; 128];
        let n = receiver.recv(&mut buf).expect("recv");
        assert_eq!(&buf[..n], b"READY=1");
        let n = receiver.recv(&mut buf).expect("recv");
        assert_eq!(&buf[..n], b"EXTEND_TIMEOUT_USEC=1500000");

        use std::os::linux::net::SocketAddrExt;
        let name = format!("oewsprobe-test-{}", std::process::id());
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())
            .expect("abstract name");
        let receiver = UnixDatagram::bind_addr(&addr).expect("bind abstract");
        send(OsStr::new(&format!("@{name}")), STOPPING).expect("send");
        let n = receiver.recv(&mut buf).expect("recv");
        assert_eq!(&buf[..n], b"STOPPING=1");
    }

    #[test]
    fn a_missing_socket_is_an_error_for_the_caller() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("none.sock");
        assert!(send(missing.as_os_str(), READY).is_err());
    }
}
