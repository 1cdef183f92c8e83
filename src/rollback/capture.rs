//! The hook's stdout or stderr (adapter), read as it comes into a bounded buffer that can be taken at any
//! time: what the hook printed is kept even when it is killed, or when a child it left running holds the pipe.

use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt};

/// The bytes read so far, at most the limit, and whether more came.
#[derive(Debug, Default)]
struct Kept {
    bytes: Vec<u8>,
    cut: bool,
}

/// One stream being read by a task of its own.
#[derive(Debug)]
pub struct Capture {
    kept: Arc<Mutex<Kept>>,
    task: tokio::task::JoinHandle<()>,
}

impl Capture {
    /// Starts reading `stream` (nothing, when it is `None`), keeping at most `limit` bytes.
    pub fn start<R>(stream: Option<R>, limit: usize) -> Capture
    where
        R: AsyncRead + Unpin + Send + 'static,
    {
        let kept = Arc::new(Mutex::new(Kept::default()));
        let shared = kept.clone();
        let task = tokio::spawn(async move {
            let Some(mut stream) = stream else { return };
            let mut buf = [0u8; 8192];
            while let Ok(n) = stream.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                let mut kept = shared.lock().unwrap_or_else(|p| p.into_inner());
                let room = limit.saturating_sub(kept.bytes.len());
                kept.bytes.extend_from_slice(&buf[..n.min(room)]);
                kept.cut |= n > room;
            }
        });
        Capture { kept, task }
    }

    /// Waits up to `drain` for the end of the stream, stops reading, and returns what was read (as text) and
    /// whether it was cut.
    pub async fn finish(mut self, drain: Duration) -> (String, bool) {
        let _ = tokio::time::timeout(drain, &mut self.task).await;
        self.task.abort();
        let kept = std::mem::take(&mut *self.kept.lock().unwrap_or_else(|p| p.into_inner()));
        (String::from_utf8_lossy(&kept.bytes).into_owned(), kept.cut)
    }
}
