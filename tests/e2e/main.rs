//! End-to-end tests: the real `syncdb` binary and the real daemon, on
//! temporary homes, with real sockets and real files.

mod support;

mod bad_input;
mod batch;
mod daemon;
mod faultproxy;
mod faults_net;
mod find;
mod history;
mod http;
mod http_client;
mod hub_listener;
mod hubs;
mod index;
mod ipc_bad_input;
mod isolation;
mod lifecycle;
mod local;
mod net_bad_input;
mod output;
mod page;
mod promises;
mod readme;
mod schema;
mod security;
mod sync;
mod terminal;
mod tool;
mod usage;
