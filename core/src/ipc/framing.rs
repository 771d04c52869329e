//! Line framing with a cap, on bytes, before any socket is involved: the
//! daemon (async) and the command (blocking) both push what they read and
//! pop whole lines, so the rule is written once.

/// A line longer than the cap: the peer is misbehaving; close the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("message longer than {0} bytes")]
pub struct LineTooLong(pub usize);

#[derive(Debug)]
pub struct LineBuffer {
    buf: Vec<u8>,
    /// Where the next line starts.
    start: usize,
    /// Bytes before this offset hold no newline.
    scanned: usize,
    max: usize,
}

impl LineBuffer {
    pub fn new(max: usize) -> Self {
        LineBuffer {
            buf: Vec::new(),
            start: 0,
            scanned: 0,
            max,
        }
    }

    pub fn push(&mut self, bytes: &[u8]) {
        if self.start > 0 && self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
            self.scanned = 0;
        } else if self.start > (1 << 16) && self.start * 2 > self.buf.len() {
            self.buf.drain(..self.start);
            self.scanned -= self.start;
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole line without its `\n` (and a `\r` before it), if any.
    pub fn next_line(&mut self) -> Result<Option<&[u8]>, LineTooLong> {
        let from = self.scanned.max(self.start);
        match self.buf[from..].iter().position(|&b| b == b'\n') {
            Some(i) => {
                let end = from + i;
                if end - self.start > self.max {
                    return Err(LineTooLong(self.max));
                }
                let line_start = self.start;
                self.start = end + 1;
                self.scanned = self.start;
                let mut line = &self.buf[line_start..end];
                if let Some(stripped) = line.strip_suffix(b"\r") {
                    line = stripped;
                }
                Ok(Some(line))
            }
            None => {
                self.scanned = self.buf.len();
                if self.buf.len() - self.start > self.max {
                    return Err(LineTooLong(self.max));
                }
                Ok(None)
            }
        }
    }

    /// Bytes received that are not yet a whole line.
    pub fn pending(&self) -> usize {
        self.buf.len() - self.start
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(buf: &mut LineBuffer) -> Vec<String> {
        let mut out = Vec::new();
        while let Some(l) = buf.next_line().unwrap() {
            out.push(String::from_utf8(l.to_vec()).unwrap());
        }
        out
    }

    #[test]
    fn splits_lines_across_pushes() {
        let mut b = LineBuffer::new(100);
        b.push(b"ab");
        assert!(lines(&mut b).is_empty());
        b.push(b"c\r\nde\nf");
        assert_eq!(lines(&mut b), ["abc", "de"]);
        assert_eq!(b.pending(), 1);
        b.push(b"\n");
        assert_eq!(lines(&mut b), ["f"]);
    }

    #[test]
    fn refuses_a_line_over_the_cap_before_it_ends() {
        let mut b = LineBuffer::new(8);
        b.push(b"0123456789");
        assert_eq!(b.next_line(), Err(LineTooLong(8)));
        let mut b = LineBuffer::new(8);
        b.push(b"0123456789\n");
        assert_eq!(b.next_line(), Err(LineTooLong(8)));
    }

    #[test]
    fn memory_is_reused_after_many_lines() {
        let mut b = LineBuffer::new(1 << 20);
        for _ in 0..100_000 {
            b.push(b"0123456789abcdef\n");
            assert!(b.next_line().unwrap().is_some());
        }
        assert!(b.buf.capacity() < 1 << 20);
    }
}
