//! Where log lines go: stdout (stderr for a `keys` command), through a
//! buffer.
//!
//! One access-log line per request written straight to stdout is one
//! `write(2)` per request, and, when stdout is a pipe to a log collector, one
//! wake-up of the collector per request too: at a few thousand requests a
//! second that was a measurable part of the server's CPU (issue 12). Lines at
//! `info` and below therefore wait in a buffer that is written out every
//! [`FLUSH_EVERY`], or as soon as it holds [`FLUSH_AT`] bytes. A `warn` or
//! `error` line is written at once, after whatever waits before it, so lines
//! keep their order and a problem is on the output before anything else
//! happens. [`Flushing::finish`] (and dropping it) writes out the rest at
//! exit.

use std::io::{self, Write};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use tracing::{Level, Metadata};
use tracing_subscriber::fmt::MakeWriter;

/// Longest an `info` line waits in the buffer.
pub const FLUSH_EVERY: Duration = Duration::from_millis(100);
/// Buffered bytes that are written out at once, without waiting.
pub const FLUSH_AT: usize = 64 * 1024;

/// The buffer and the stream it drains into.
struct Shared {
    pending: Mutex<Pending>,
    wake: Condvar,
}

struct Pending {
    bytes: Vec<u8>,
    sink: Box<dyn Write + Send>,
    stopping: bool,
}

impl Pending {
    /// Writes out what waits. A failed write loses those lines: a log sink
    /// that cannot be written to has nowhere to say so.
    fn drain(&mut self) {
        if !self.bytes.is_empty() {
            let _ = self.sink.write_all(&self.bytes);
            let _ = self.sink.flush();
            self.bytes.clear();
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Pending> {
        // A writer that panicked mid-line leaves at worst a partial line.
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The `MakeWriter` of the server's log: cheap to clone, every clone writes
/// to the same buffer.
#[derive(Clone)]
pub struct LogOutput {
    shared: Arc<Shared>,
}

/// The thread that writes the buffer out every [`FLUSH_EVERY`].
pub struct Flushing {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl LogOutput {
    /// A buffered log over `sink`, and the thread that drains it.
    ///
    /// # Errors
    /// When the thread cannot be started.
    pub fn new(sink: impl Write + Send + 'static) -> io::Result<(Self, Flushing)> {
        let shared = Arc::new(Shared {
            pending: Mutex::new(Pending {
                bytes: Vec::with_capacity(FLUSH_AT),
                sink: Box::new(sink),
                stopping: false,
            }),
            wake: Condvar::new(),
        });
        let drained = shared.clone();
        let thread = std::thread::Builder::new()
            .name("log-flush".to_owned())
            .spawn(move || {
                let mut pending = drained.lock();
                while !pending.stopping {
                    pending = drained
                        .wake
                        .wait_timeout(pending, FLUSH_EVERY)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                    pending.drain();
                }
            })?;
        Ok((
            Self {
                shared: shared.clone(),
            },
            Flushing {
                shared,
                thread: Some(thread),
            },
        ))
    }
}

impl Flushing {
    /// Stops the thread and writes out every line that waits.
    pub fn finish(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if let Some(thread) = self.thread.take() {
            self.shared.lock().stopping = true;
            self.shared.wake.notify_all();
            let _ = thread.join();
        }
        self.shared.lock().drain();
    }
}

impl Drop for Flushing {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One line being written: buffered, or written through at once.
pub struct LineWriter<'a> {
    shared: &'a Shared,
    through: bool,
}

impl Write for LineWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut pending = self.shared.lock();
        pending.bytes.extend_from_slice(buf);
        // After the flushing thread stopped, nothing else would write it out.
        if self.through || pending.stopping || pending.bytes.len() >= FLUSH_AT {
            pending.drain();
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for LogOutput {
    type Writer = LineWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter {
            shared: &self.shared,
            through: true,
        }
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> Self::Writer {
        LineWriter {
            shared: &self.shared,
            // tracing orders levels by verbosity: `<= WARN` is WARN and ERROR.
            through: *meta.level() <= Level::WARN,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sink whose contents the test can read.
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Sink {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    fn line(output: &LogOutput, level: &'static Metadata<'static>, text: &str) {
        output
            .make_writer_for(level)
            .write_all(text.as_bytes())
            .unwrap();
    }

    macro_rules! metadata_at {
        ($level:expr) => {{
            struct Callsite;
            impl tracing::callsite::Callsite for Callsite {
                fn set_interest(&self, _: tracing::subscriber::Interest) {}
                fn metadata(&self) -> &Metadata<'_> {
                    &META
                }
            }
            static META: Metadata<'static> = tracing::metadata! {
                name: "test",
                target: "test",
                level: $level,
                fields: &[],
                callsite: &Callsite,
                kind: tracing::metadata::Kind::EVENT,
            };
            &META
        }};
    }

    fn info() -> &'static Metadata<'static> {
        metadata_at!(Level::INFO)
    }

    fn warn() -> &'static Metadata<'static> {
        metadata_at!(Level::WARN)
    }

    /// A log over a fresh sink, and its flushing thread.
    fn started() -> (Sink, LogOutput, Flushing) {
        let sink = Sink::default();
        let (output, flushing) = LogOutput::new(sink.clone()).unwrap();
        (sink, output, flushing)
    }

    #[test]
    fn info_lines_wait_and_a_warning_writes_them_out_first_in_order() {
        let (sink, output, flushing) = started();
        line(&output, info(), "one\n");
        line(&output, info(), "two\n");
        // The flushing thread may have drained some of them already.
        let before = sink.text();
        assert!(
            before.is_empty() || before == "one\n" || before == "one\ntwo\n",
            "{before:?}"
        );
        line(&output, warn(), "three\n");
        assert_eq!(sink.text(), "one\ntwo\nthree\n");
        flushing.finish();
    }

    #[test]
    fn a_full_buffer_is_written_out_without_waiting() {
        let (sink, output, flushing) = started();
        line(&output, info(), &"x".repeat(FLUSH_AT));
        assert_eq!(sink.text().len(), FLUSH_AT);
        flushing.finish();
    }

    #[test]
    fn finishing_writes_out_what_waits_and_later_lines_go_straight_out() {
        let (sink, output, flushing) = started();
        line(&output, info(), "last before exit\n");
        flushing.finish();
        assert_eq!(sink.text(), "last before exit\n");
        line(&output, info(), "after\n");
        assert_eq!(sink.text(), "last before exit\nafter\n");
    }

    #[test]
    fn the_flushing_thread_writes_out_an_info_line_by_itself() {
        let (sink, output, flushing) = started();
        line(&output, info(), "alone\n");
        // Bounded wait for the thread's next drain (every FLUSH_EVERY).
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while sink.text().is_empty() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(sink.text(), "alone\n");
        flushing.finish();
    }
}
