//! A real SMTP server on loopback (mailin-embedded), recording every message it accepts.

use std::net::{IpAddr, TcpListener};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use mailin_embedded::response::{self, Response};
use mailin_embedded::{Handler, Server};
use tokio::sync::watch;

/// A message as the SMTP server received it.
#[derive(Clone, Debug)]
pub struct Received {
    pub to: Vec<String>,
    pub data: String,
}

impl Received {
    pub fn subject(&self) -> Option<&str> {
        self.data.lines().find_map(|line| line.strip_prefix("Subject: "))
    }

    /// The six-digit sign-in code of a sign-in email.
    pub fn sign_in_code(&self) -> Option<String> {
        self.data
            .lines()
            .map(str::trim)
            .find(|line| line.len() == 6 && line.chars().all(|c| c.is_ascii_digit()))
            .map(str::to_owned)
    }
}

#[derive(Clone)]
pub struct MailStore {
    messages: Arc<Mutex<Vec<Received>>>,
    count: Arc<watch::Sender<usize>>,
}

impl MailStore {
    fn new() -> Self {
        Self { messages: Arc::default(), count: Arc::new(watch::channel(0).0) }
    }

    fn push(&self, message: Received) {
        let mut messages = self.messages.lock().unwrap();
        messages.push(message);
        self.count.send_replace(messages.len());
    }

    /// Every message received for `to` so far.
    pub fn for_recipient(&self, to: &str) -> Vec<Received> {
        let messages = self.messages.lock().unwrap();
        messages
            .iter()
            .filter(|m| m.to.iter().any(|t| t.eq_ignore_ascii_case(to)))
            .cloned()
            .collect()
    }

    /// Waits until `n` messages for `to` have arrived, or fails after `timeout`.
    pub async fn wait_for(&self, to: &str, n: usize, timeout: Duration) -> Vec<Received> {
        self.wait_for_matching(to, n, timeout, |_| true).await
    }

    /// Waits until `n` messages for `to` that satisfy `keep` have arrived.
    pub async fn wait_for_matching(
        &self,
        to: &str,
        n: usize,
        timeout: Duration,
        keep: impl Fn(&Received) -> bool,
    ) -> Vec<Received> {
        let mut changes = self.count.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let found: Vec<Received> =
                self.for_recipient(to).into_iter().filter(|m| keep(m)).collect();
            if found.len() >= n {
                return found;
            }
            let waited = tokio::time::timeout_at(deadline, changes.changed()).await;
            assert!(
                waited.is_ok(),
                "no {n} email(s) for {to} within {timeout:?}; got {}",
                found.len()
            );
        }
    }
}

#[derive(Clone)]
struct Recorder {
    store: MailStore,
    to: Vec<String>,
    data: Vec<u8>,
}

impl Handler for Recorder {
    fn helo(&mut self, _ip: IpAddr, _domain: &str) -> Response {
        response::OK
    }

    /// Mailboxes whose local part starts with `nobody` do not exist here: 550, as a real relay
    /// answers for an unknown address.
    fn rcpt(&mut self, to: &str) -> Response {
        let mailbox = to.trim_start_matches('<');
        if mailbox.starts_with("nobody") { response::NO_MAILBOX } else { response::OK }
    }

    fn data_start(&mut self, _domain: &str, _from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.to = to.to_vec();
        self.data.clear();
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        self.store.push(Received {
            to: std::mem::take(&mut self.to),
            data: String::from_utf8_lossy(&std::mem::take(&mut self.data)).into_owned(),
        });
        response::OK
    }
}

/// Serves SMTP on `listener` in a background thread, recording into `store`.
pub fn serve(listener: TcpListener, store: MailStore) {
    let mut server = Server::new(Recorder { store, to: Vec::new(), data: Vec::new() });
    server.with_name("smtp.test").with_num_threads(4).with_tcp_listener(listener);
    std::thread::spawn(move || {
        let _ = server.serve();
    });
}

/// The SMTP server shared by the tests; each test mails addresses of its own.
pub fn shared() -> &'static (u16, MailStore) {
    static SHARED: OnceLock<(u16, MailStore)> = OnceLock::new();
    SHARED.get_or_init(|| {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind SMTP");
        let port = listener.local_addr().expect("SMTP address").port();
        let store = MailStore::new();
        serve(listener, store.clone());
        (port, store)
    })
}

/// A store for a server the test starts itself.
pub fn new_store() -> MailStore {
    MailStore::new()
}

/// A loopback port in front of an SMTP server that the test can take down and bring back:
/// while down, connections are refused and open ones are cut, as when the mail server stops.
pub struct SwitchablePort {
    pub port: u16,
    target: u16,
    running: Option<tokio::task::JoinHandle<()>>,
}

impl SwitchablePort {
    pub async fn new(target: u16) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut switchable = Self { port, target, running: None };
        switchable.running = Some(tokio::spawn(forward(listener, target)));
        switchable
    }

    pub fn stop(&mut self) {
        if let Some(task) = self.running.take() {
            task.abort();
        }
    }

    pub async fn start(&mut self) {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port)).await.unwrap();
        self.running = Some(tokio::spawn(forward(listener, self.target)));
    }
}

impl Drop for SwitchablePort {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Accepts connections and pipes each to `target`; aborting it drops the listener and every
/// connection with it.
async fn forward(listener: tokio::net::TcpListener, target: u16) {
    let mut connections = tokio::task::JoinSet::new();
    while let Ok((mut inbound, _)) = listener.accept().await {
        connections.spawn(async move {
            if let Ok(mut outbound) = tokio::net::TcpStream::connect(("127.0.0.1", target)).await {
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            }
        });
    }
}
