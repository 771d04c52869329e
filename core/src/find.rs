//! Running a query on a replica: through an index when one fits, by
//! reading the whole collection otherwise. Both ways give the same records
//! in the same order (a property test holds them to it), so the plan is
//! only a matter of speed.

use std::ops::Bound;
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::Value;

use crate::db::Reader;
use crate::index::{IndexDef, Range, Scan};
use crate::names::{Key, Name};
use crate::query::{Condition, Cursor, Order};
use crate::store::{Result, StoreError};
use crate::version::Version;

/// Records read from the store at a time.
const PAGE: usize = 1024;

/// What to find.
#[derive(Clone, Debug, Default)]
pub struct Query {
    pub conditions: Vec<Condition>,
    pub order: Order,
    /// At most this many records (at least 1).
    pub limit: usize,
    /// Continue after this record of an earlier page.
    pub cursor: Option<Cursor>,
    /// Count every match instead of listing a page.
    pub count: bool,
}

/// A record found.
#[derive(Clone, Debug)]
pub struct Hit {
    pub key: Key,
    /// The visible document as JSON text.
    pub text: String,
    pub version: Version,
    /// The document parsed, when the query needed it.
    doc: Option<Value>,
}

/// What a query found, and how.
#[derive(Clone, Debug)]
pub struct Found {
    pub hits: Vec<Hit>,
    /// Where the next page starts, when there may be more.
    pub next: Option<Cursor>,
    /// With `count`: how many records match.
    pub count: Option<u64>,
    pub plan: Plan,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// The index read (`COLL(age,city)`), or `None` for a scan.
    pub index: Option<String>,
    /// Whether the index gave the order, so reading stopped at a full page.
    pub ordered: bool,
    /// Conditions checked on each record rather than decided by the index.
    pub residual: usize,
    /// Indexes on the collection still being built, which the query could
    /// not use yet.
    pub building: Vec<String>,
    /// Records (or index entries) read, and how many of them matched.
    pub examined: u64,
    pub matched: u64,
}

/// The index a query reads, and how.
struct Choice {
    def: IndexDef,
    scan: Scan,
    ordered: bool,
}

/// The list of indexes a reader last read, kept while no commit changes it.
#[derive(Default)]
pub(crate) struct ListCache {
    generation: AtomicU64,
    held: Mutex<Option<(u64, Arc<Listed>)>>,
}

/// The list of indexes as stored, and read.
pub(crate) struct Listed {
    blob: Vec<u8>,
    defs: Vec<IndexDef>,
    paths: Vec<Vec<crate::query::FieldPath>>,
}

impl ListCache {
    /// Called by the writer after a commit that changed the list.
    pub(crate) fn stale(&self) {
        self.generation.fetch_add(1, AtomicOrdering::Release);
    }
}

/// Times a query plans again when the list of indexes changes under it.
const ATTEMPTS: usize = 3;

impl Reader {
    /// Runs `query` over `collection`.
    pub fn find(&self, collection: &Name, query: &Query) -> Result<Found> {
        for attempt in 0..ATTEMPTS {
            let listed = self.listed(attempt > 0)?;
            if let Some(found) = self.find_with(&listed, collection, query)? {
                return Ok(found);
            }
        }
        Err(StoreError::Aborted(
            "the indexes of the collection kept changing during the query; ask again".into(),
        ))
    }

    /// The list of indexes, from the cache unless `fresh` or stale.
    fn listed(&self, fresh: bool) -> Result<Arc<Listed>> {
        let cache = &self.listed;
        let generation = cache.generation.load(AtomicOrdering::Acquire);
        let mut held = cache.held.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((g, listed)) = held.as_ref()
            && *g == generation
            && !fresh
        {
            return Ok(listed.clone());
        }
        let blob = crate::db::guarded(|| self.engine.meta_blob(crate::index::META_NAME))?;
        let defs = crate::index::IndexList::decode(blob.as_deref())
            .map_err(StoreError::Corrupt)?
            .indexes;
        let listed = Arc::new(Listed {
            blob: blob.unwrap_or_default(),
            paths: defs.iter().map(IndexDef::paths).collect(),
            defs,
        });
        *held = Some((generation, listed.clone()));
        Ok(listed)
    }

    /// The query planned from `listed`; `None` when the list changed
    /// before the read (the caller plans again).
    fn find_with(
        &self,
        listed: &Listed,
        collection: &Name,
        query: &Query,
    ) -> Result<Option<Found>> {
        let defs = &listed.defs;
        let mut plan = Plan {
            building: defs
                .iter()
                .filter(|d| &d.collection == collection && !d.is_ready())
                .map(IndexDef::spec)
                .collect(),
            ..Plan::default()
        };
        let mut run = Run {
            query,
            hits: Vec::new(),
            more: false,
        };
        match choose(listed, collection, query) {
            Some(choice) => {
                plan.index = Some(format!("{collection}({})", choice.def.spec()));
                plan.ordered = choice.ordered;
                plan.residual = query.conditions.len() - choice.scan.exact.len();
                if !self.through_index(&listed.blob, collection, &choice, &mut run, &mut plan)? {
                    return Ok(None);
                }
            }
            None => {
                plan.residual = query.conditions.len();
                self.by_scan(collection, &mut run, &mut plan)?;
            }
        }
        let Run {
            mut hits, mut more, ..
        } = run;
        let sorted =
            plan.ordered || (query.order.by.is_none() && !query.order.desc && plan.index.is_none());
        if !sorted {
            keep_best(&mut hits, &query.order, query.limit, &mut more);
        }
        let next = match (more, hits.last_mut()) {
            (true, Some(h)) => Some({
                let (key, doc) = h.keyed();
                query.order.cursor(key, doc)
            }),
            _ => None,
        };
        Ok(Some(Found {
            hits,
            next,
            count: query.count.then_some(plan.matched),
            plan,
        }))
    }

    /// Every record of the collection, in key order.
    fn by_scan(&self, collection: &Name, run: &mut Run<'_>, plan: &mut Plan) -> Result<()> {
        let q = run.query;
        // By key ascending, the store's own order: read from the cursor on
        // and stop at a full page. Any other order needs every match.
        let streams = q.order.by.is_none() && !q.order.desc && !q.count;
        let mut after = q.cursor.as_ref().filter(|_| streams).map(|c| c.key.clone());
        loop {
            let (page, last) = self.scan_visible(collection, after.as_ref(), PAGE)?;
            for (key, text, version) in page {
                plan.examined += 1;
                let Some(doc) = crate::query::doc_from_text(&text) else {
                    continue;
                };
                if !q.conditions.iter().all(|c| c.matches(&doc)) {
                    continue;
                }
                plan.matched += 1;
                let hit = Hit {
                    key,
                    text,
                    version,
                    doc: Some(doc),
                };
                if run.offer(hit, streams) {
                    return Ok(());
                }
            }
            match last {
                Some(last) => after = Some(last),
                None => return Ok(()),
            }
        }
    }

    /// The entries of the chosen index's ranges, each record checked
    /// against the conditions the ranges do not decide.
    /// False when the list of indexes is no longer `list`.
    fn through_index(
        &self,
        list: &[u8],
        collection: &Name,
        choice: &Choice,
        run: &mut Run<'_>,
        plan: &mut Plan,
    ) -> Result<bool> {
        let q = run.query;
        let desc = choice.ordered && q.order.desc;
        let residual: Vec<&Condition> = q
            .conditions
            .iter()
            .enumerate()
            .filter(|(i, _)| !choice.scan.exact.contains(i))
            .map(|(_, c)| c)
            .collect();
        let mut ranges = choice.scan.ranges.clone();
        if desc {
            ranges.reverse();
        }
        let streams = choice.ordered && !q.count;
        if let (true, Some(cursor)) = (streams, &q.cursor) {
            let at = resume_at(choice, q, cursor);
            for r in &mut ranges {
                narrow(r, &at, desc);
            }
        }
        let key_of = |e: &[u8]| choice.def.key_of(e);
        for (lo, hi) in ranges {
            let (mut lo, mut hi) = (lo, hi);
            loop {
                let page = crate::db::guarded(|| {
                    self.engine.index_scan(
                        list,
                        collection,
                        (as_ref(&lo), as_ref(&hi)),
                        desc,
                        PAGE,
                        &key_of,
                    )
                })?;
                let Some(page) = page else {
                    return Ok(false);
                };
                let full = page.len() == PAGE;
                let mut last = None;
                for (entry, key, visible) in page {
                    plan.examined += 1;
                    let (text, version) = visible.ok_or_else(|| {
                        StoreError::Aborted(format!(
                            "index {collection}({}) is out of step with its records (an entry names {key}, which is not there): drop it and create it again",
                            choice.def.spec()
                        ))
                    })?;
                    last = Some(entry);
                    let mut hit = Hit {
                        key,
                        text,
                        version,
                        doc: None,
                    };
                    if !residual.is_empty() {
                        let doc = hit.parsed();
                        if !residual.iter().all(|c| c.matches(doc)) {
                            continue;
                        }
                    }
                    plan.matched += 1;
                    if run.offer(hit, streams) {
                        return Ok(true);
                    }
                }
                match (full, last) {
                    (true, Some(e)) if desc => hi = Bound::Excluded(e),
                    (true, Some(e)) => lo = Bound::Excluded(e),
                    _ => break,
                }
            }
        }
        Ok(true)
    }

    /// Checks an index against its collection's records: every entry names
    /// a record whose document gives exactly that entry, and (once built)
    /// every record has one. Returns the entries read and what is wrong.
    pub fn check_index(&self, def: &IndexDef) -> Result<(u64, Vec<String>)> {
        for _ in 0..ATTEMPTS {
            let listed = self.listed(true)?;
            let Some(def) = listed.defs.iter().find(|d| d.id == def.id) else {
                return Err(StoreError::Aborted(format!(
                    "index {}({}) was dropped during the check",
                    def.collection,
                    def.spec()
                )));
            };
            if let Some(checked) = self.check_with(&listed, def)? {
                return Ok(checked);
            }
        }
        Err(StoreError::Aborted(
            "the indexes kept changing during the check; check again".into(),
        ))
    }

    /// As [`Reader::check_index`] with the list `listed`; `None` when the
    /// list changed meanwhile (a build finished, an index came or went).
    fn check_with(&self, listed: &Listed, def: &IndexDef) -> Result<Option<(u64, Vec<String>)>> {
        let paths = def.paths();
        let mut problems = Vec::new();
        let (mut entries, mut valid) = (0u64, 0u64);
        let (lo, hi) = def.all();
        let mut lo = Bound::Included(lo);
        let key_of = |e: &[u8]| def.key_of(e);
        loop {
            let page = crate::db::guarded(|| {
                self.engine.index_scan(
                    &listed.blob,
                    &def.collection,
                    (as_ref(&lo), Bound::Excluded(&hi)),
                    false,
                    PAGE,
                    &key_of,
                )
            })?;
            let Some(page) = page else {
                return Ok(None);
            };
            let full = page.len() == PAGE;
            for (entry, key, visible) in page {
                entries += 1;
                let doc = visible.and_then(|(text, _)| crate::query::doc_from_text(&text));
                match doc {
                    None => problems.push(format!(
                        "an entry names {key}, which has no visible document"
                    )),
                    Some(doc) if def.entry(&paths, &key, &doc) != entry => {
                        problems.push(format!("the entry of {key} does not match its document"))
                    }
                    Some(_) => valid += 1,
                }
                lo = Bound::Excluded(entry);
            }
            if !full {
                break;
            }
        }
        if def.is_ready() {
            // Valid entries are distinct and each matches the one entry its
            // record has: they fall short of the records by those missing.
            let mut indexable = 0u64;
            let mut after: Option<Key> = None;
            loop {
                let (page, last) = self.scan_visible(&def.collection, after.as_ref(), PAGE)?;
                indexable += page.len() as u64;
                match last {
                    Some(last) => after = Some(last),
                    None => break,
                }
            }
            if indexable > valid {
                problems.push(format!(
                    "{} of its {indexable} records have no entry",
                    indexable - valid
                ));
            }
        }
        Ok(Some((entries, problems)))
    }

    /// How many records the build of `def` has read (its collection's
    /// stored records, tombstones too, once built).
    pub fn index_progress(&self, def: &IndexDef) -> Result<u64> {
        let blob = crate::db::guarded(|| self.engine.meta_blob(&def.progress_name()))?;
        let progress =
            crate::index::BuildProgress::decode(blob.as_deref()).map_err(StoreError::Corrupt)?;
        Ok(progress.done)
    }

    /// The database's indexes as of the last commit.
    pub fn indexes(&self) -> Result<Vec<IndexDef>> {
        Ok(self.listed(false)?.defs.clone())
    }
}

/// The records kept so far.
struct Run<'q> {
    query: &'q Query,
    hits: Vec<Hit>,
    more: bool,
}

impl Run<'_> {
    /// Takes a match; true when reading can stop (records arrive in the
    /// query's order and the page is full).
    fn offer(&mut self, mut hit: Hit, in_order: bool) -> bool {
        let q = self.query;
        if q.count {
            return false;
        }
        if let Some(c) = &q.cursor {
            let (key, doc) = hit.keyed();
            if !q.order.after(c, key, doc) {
                return false;
            }
        }
        if in_order && self.hits.len() == q.limit {
            self.more = true;
            return true;
        }
        self.hits.push(hit);
        if !in_order && self.hits.len() >= 2 * q.limit.max(64) {
            keep_best(&mut self.hits, &q.order, q.limit, &mut self.more);
        }
        false
    }
}

impl Hit {
    /// The document, parsed on first use.
    fn parsed(&mut self) -> &Value {
        self.keyed().1
    }

    /// The key and the document.
    fn keyed(&mut self) -> (&Key, &Value) {
        let doc = self
            .doc
            .get_or_insert_with(|| crate::query::doc_from_text(&self.text).unwrap_or(Value::Null));
        (&self.key, doc)
    }
}

/// Sorts `hits` by `order` and keeps the first `limit`; `more` when some
/// were left out.
fn keep_best(hits: &mut Vec<Hit>, order: &Order, limit: usize, more: &mut bool) {
    static NULL: Value = Value::Null;
    // By key, the documents play no part: they are not read.
    if order.by.is_some() {
        for h in hits.iter_mut() {
            h.parsed();
        }
    }
    hits.sort_by(|a, b| {
        let (x, y) = (
            a.doc.as_ref().unwrap_or(&NULL),
            b.doc.as_ref().unwrap_or(&NULL),
        );
        order.compare((&a.key, x), (&b.key, y))
    });
    if hits.len() > limit {
        hits.truncate(limit);
        *more = true;
    }
}

/// The ready index that serves `query` best: the most conditions decided,
/// then one that gives the order. An index whose first field is the order
/// serves a query with no condition it can use, reading in order.
fn choose(listed: &Listed, collection: &Name, query: &Query) -> Option<Choice> {
    let mut best: Option<(usize, bool, Choice)> = None;
    let ready = listed
        .defs
        .iter()
        .zip(&listed.paths)
        .filter(|(d, _)| &d.collection == collection && d.is_ready());
    for (def, paths) in ready {
        let scan = crate::index::plan(def, paths, &query.conditions).or_else(|| {
            let first = def.fields.first()?;
            let by = query.order.by.as_ref()?;
            (&by.to_string() == first).then(|| {
                let (lo, hi) = def.all();
                Scan {
                    ranges: vec![(Bound::Included(lo), Bound::Excluded(hi))],
                    exact: Vec::new(),
                    equal_prefix: 0,
                }
            })
        });
        let Some(scan) = scan else { continue };
        let ordered = gives_order(def, &scan, &query.order);
        let score = (scan.exact.len(), ordered);
        if best.as_ref().is_none_or(|(n, o, _)| score > (*n, *o)) {
            best = Some((
                score.0,
                score.1,
                Choice {
                    def: def.clone(),
                    scan,
                    ordered,
                },
            ));
        }
    }
    best.map(|(_, _, c)| c)
}

/// Whether reading the scan's one range in entry order is reading in the
/// query's order: past the equalities, either nothing (the key decides)
/// or exactly the order's field (then the key).
fn gives_order(def: &IndexDef, scan: &Scan, order: &Order) -> bool {
    if scan.ranges.len() != 1 {
        return false;
    }
    let (fixed, rest) = def.fields.split_at(scan.equal_prefix);
    match &order.by {
        None => rest.is_empty(),
        Some(by) => {
            let by = by.to_string();
            (rest.is_empty() && fixed.contains(&by)) || rest == [by]
        }
    }
}

/// The entry the cursor's record had: the equalities' values, then the
/// order's value if the index holds it after them, then the key.
fn resume_at(choice: &Choice, query: &Query, cursor: &Cursor) -> Vec<u8> {
    let fields = &choice.def.fields;
    let mut at = choice.def.id.to_be_bytes().to_vec();
    for field in &fields[..choice.scan.equal_prefix] {
        // An equality, or an `in` whose values are all one (one range).
        let value = query.conditions.iter().find_map(|c| {
            if &c.path.to_string() != field {
                return None;
            }
            match c.op {
                crate::query::Op::Eq => Some(&c.value),
                crate::query::Op::In => c.value.as_array()?.first(),
                _ => None,
            }
        });
        if let Some(v) = value {
            crate::index::encode(&mut at, v);
        }
    }
    if fields.len() > choice.scan.equal_prefix {
        match &cursor.value {
            Some(v) => crate::index::encode(&mut at, v),
            None => at.push(0x01),
        }
    }
    at.extend_from_slice(cursor.key.as_str().as_bytes());
    at
}

/// Shrinks `range` to what lies after `at` (before it when `desc`).
fn narrow(range: &mut Range, at: &[u8], desc: bool) {
    let side = if desc { &mut range.1 } else { &mut range.0 };
    let inside = match side {
        Bound::Included(b) | Bound::Excluded(b) => {
            if desc {
                at < b.as_slice()
            } else {
                at > b.as_slice()
            }
        }
        Bound::Unbounded => true,
    };
    if inside || matches!(side, Bound::Included(b) if b.as_slice() == at) {
        *side = Bound::Excluded(at.to_vec());
    }
}

fn as_ref(b: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    match b {
        Bound::Included(v) => Bound::Included(v),
        Bound::Excluded(v) => Bound::Excluded(v),
        Bound::Unbounded => Bound::Unbounded,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{Database, WriteOp};
    use crate::store::EngineKind;

    #[test]
    fn a_read_planned_from_a_list_since_changed_plans_again() {
        for kind in EngineKind::ALL {
            let dir = tempfile::tempdir().unwrap();
            let mut db = Database::open(kind, &dir.path().join(format!("t.{kind}"))).unwrap();
            let coll = Name::parse_as("collection", "c").unwrap();
            let ops: Vec<WriteOp> = (0..5)
                .map(|i| WriteOp::Put {
                    collection: coll.clone(),
                    key: Key::parse(&format!("k{i}")).unwrap(),
                    doc: crate::Document::parse(&format!("{{\"n\":{}}}", i % 2), 99).unwrap(),
                })
                .collect();
            db.commit(&ops, 1).unwrap();
            db.create_index(&coll, vec!["n".into()]).unwrap();
            while db.build_indexes(2).unwrap() {}
            let reader = db.reader();
            let query = Query {
                conditions: vec![Condition::parse("n = 1").unwrap()],
                limit: 10,
                ..Query::default()
            };
            let planned = reader.listed(false).unwrap();
            let found = reader.find_with(&planned, &coll, &query).unwrap().unwrap();
            assert_eq!((found.hits.len(), found.plan.index.is_some()), (2, true));
            db.drop_index(&coll, &["n".into()]).unwrap();
            // Its entries are gone: a read planned before must not use them.
            assert!(reader.find_with(&planned, &coll, &query).unwrap().is_none());
            let found = reader.find(&coll, &query).unwrap();
            assert_eq!((found.hits.len(), found.plan.index), (2, None), "{kind}");
        }
    }
}
