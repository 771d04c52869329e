//! End-to-end tests: the real `syncdb` binary and the real daemon, on
//! temporary homes, with real sockets and real files.

mod support;

mod bad_input;
mod daemon;
mod local;
mod security;
mod sync;
mod tool;
