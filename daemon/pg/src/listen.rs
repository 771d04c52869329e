//! Wake-ups across hubs. Every write transaction notifies [`CHANNEL`]
//! with its database (`pg_notify`, delivered when — and only if — it
//! commits), and a hub listens there to wake the sessions that serve that
//! database, whichever hub took the write. The tables stay the truth: a
//! notification only says "read the feed again", and one lost while the
//! listening connection was down is made up for by [`Wake::Resumed`],
//! which says every database may have changed.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio_postgres::{AsyncMessage, NoTls};

use crate::PgStore;

/// The channel commits are announced on.
pub const CHANNEL: &str = "syncdb_commits";

/// What a listening hub hears.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Wake {
    /// A transaction on this database committed, on some hub.
    Committed { folder: String, db: String },
    /// The token `id` was revoked, through some hub: its sessions end.
    Revoked { token: String },
    /// Listening (again): what was committed or revoked while not
    /// listening was not announced, so any database may have changed and
    /// any token may be gone.
    Resumed,
}

const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

impl PgStore {
    /// Listens for the commits of every hub on this server, on a
    /// connection of its own, until the receiver is dropped. When the
    /// server goes away it connects again (with backoff) and says
    /// [`Wake::Resumed`] once it listens again, as it does first.
    pub fn listen(&self) -> mpsc::UnboundedReceiver<Wake> {
        let config = self.shared.config.clone();
        let (tx, rx) = mpsc::unbounded_channel();
        self.shared.runtime.spawn(async move {
            let mut backoff = BACKOFF_MIN;
            loop {
                if let Ok((client, mut connection)) = config.connect(NoTls).await {
                    // The LISTEN goes through only while the connection is
                    // polled, so it runs beside the loop that polls it.
                    let mut listening = tokio::spawn(async move {
                        let sql = format!("LISTEN {CHANNEL}; LISTEN {}", crate::access::REVOKED);
                        client.batch_execute(&sql).await.map(|()| client)
                    });
                    let mut client = None;
                    loop {
                        tokio::select! {
                            message = std::future::poll_fn(|cx| connection.poll_message(cx)) => {
                                match message {
                                    Some(Ok(AsyncMessage::Notification(n))) => {
                                        let wake = if n.channel() == crate::access::REVOKED {
                                            Some(Wake::Revoked { token: n.payload().to_owned() })
                                        } else {
                                            n.payload().split_once('\t').map(|(folder, db)| Wake::Committed {
                                                folder: folder.to_owned(),
                                                db: db.to_owned(),
                                            })
                                        };
                                        if let Some(wake) = wake
                                            && tx.send(wake).is_err()
                                        {
                                            return;
                                        }
                                    }
                                    Some(Ok(_)) => {}
                                    // The server went away: connect again.
                                    Some(Err(_)) | None => break,
                                }
                            }
                            done = &mut listening, if client.is_none() => match done {
                                Ok(Ok(c)) => {
                                    client = Some(c);
                                    backoff = BACKOFF_MIN;
                                    if tx.send(Wake::Resumed).is_err() {
                                        return;
                                    }
                                }
                                _ => break,
                            },
                            () = tx.closed() => return,
                        }
                    }
                }
                tokio::select! {
                    () = tokio::time::sleep(backoff) => {}
                    () = tx.closed() => return,
                }
                backoff = (backoff * 2).min(BACKOFF_MAX);
            }
        });
        rx
    }
}
