//! Dictionaries: each field's distinct values get small integer ids, so
//! columns and postings store numbers. Ids start at 1; 0 means "no value".

use rustc_hash::FxHashMap as HashMap;

use auditlog_model::fields::Field;

const FIELDS: usize = 17;

/// All fields' dictionaries.
#[derive(Debug, Default, Clone)]
pub struct Dict {
    ids: Vec<HashMap<Box<str>, u32>>,
    values: Vec<Vec<Box<str>>>,
    /// Per field, the first id not yet persisted.
    saved: Vec<u32>,
}

impl Dict {
    /// An empty dictionary.
    pub fn new() -> Dict {
        Dict {
            ids: vec![HashMap::default(); FIELDS],
            values: vec![Vec::new(); FIELDS],
            saved: vec![1; FIELDS],
        }
    }

    fn slot(f: Field) -> usize {
        f as usize
    }

    /// Load a persisted entry. Entries must arrive in id order per field.
    pub fn load(&mut self, f: Field, id: u32, value: &str) {
        let i = Self::slot(f);
        if let (Some(ids), Some(values), Some(saved)) = (
            self.ids.get_mut(i),
            self.values.get_mut(i),
            self.saved.get_mut(i),
        ) {
            if id as usize == values.len() + 1 {
                values.push(value.into());
                ids.insert(value.into(), id);
                *saved = id + 1;
            }
        }
    }

    /// The id of `value`, creating it if new.
    pub fn intern(&mut self, f: Field, value: &str) -> u32 {
        let i = Self::slot(f);
        let (Some(ids), Some(values)) = (self.ids.get_mut(i), self.values.get_mut(i)) else {
            return 0;
        };
        if let Some(&id) = ids.get(value) {
            return id;
        }
        values.push(value.into());
        let id = u32::try_from(values.len()).unwrap_or(u32::MAX);
        ids.insert(value.into(), id);
        id
    }

    /// The id of `value`, if known.
    pub fn id(&self, f: Field, value: &str) -> Option<u32> {
        self.ids.get(Self::slot(f))?.get(value).copied()
    }

    /// The value with `id`.
    pub fn value(&self, f: Field, id: u32) -> Option<&str> {
        self.values
            .get(Self::slot(f))?
            .get((id as usize).checked_sub(1)?)
            .map(|b| &**b)
    }

    /// Number of values of `f`.
    pub fn len(&self, f: Field) -> usize {
        self.values.get(Self::slot(f)).map_or(0, Vec::len)
    }

    /// Whether the dictionary is empty.
    pub fn is_empty(&self) -> bool {
        self.values.iter().all(Vec::is_empty)
    }

    /// All values of `f` with their ids.
    pub fn entries(&self, f: Field) -> impl Iterator<Item = (u32, &str)> {
        self.values
            .get(Self::slot(f))
            .into_iter()
            .flatten()
            .enumerate()
            .map(|(i, v)| (i as u32 + 1, &**v))
    }

    /// Entries created since the last [`Dict::mark_saved`].
    pub fn unsaved(&self) -> Vec<(Field, u32, String)> {
        let mut out = Vec::new();
        for f in Field::ALL {
            let i = Self::slot(f);
            let from = self.saved.get(i).copied().unwrap_or(1);
            for (id, v) in self.entries(f).filter(|(id, _)| *id >= from) {
                out.push((f, id, v.to_owned()));
            }
        }
        out
    }

    /// Record that entries up to the current ones are persisted.
    pub fn mark_saved(&mut self, upto: &[(Field, u32, String)]) {
        for (f, id, _) in upto {
            if let Some(s) = self.saved.get_mut(Self::slot(*f)) {
                *s = (*s).max(id + 1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interns_and_tracks_unsaved() {
        let mut d = Dict::new();
        assert_eq!(d.intern(Field::Method, "A"), 1);
        assert_eq!(d.intern(Field::Method, "B"), 2);
        assert_eq!(d.intern(Field::Method, "A"), 1);
        assert_eq!(d.intern(Field::Status, "A"), 1);
        assert_eq!(d.value(Field::Method, 2), Some("B"));
        let u = d.unsaved();
        assert_eq!(u.len(), 3);
        d.mark_saved(&u);
        assert!(d.unsaved().is_empty());
        d.intern(Field::Method, "C");
        assert_eq!(d.unsaved(), vec![(Field::Method, 3, "C".to_owned())]);
        let mut e = Dict::new();
        e.load(Field::Method, 1, "A");
        e.load(Field::Method, 2, "B");
        assert_eq!(e.intern(Field::Method, "C"), 3);
        assert!(e.unsaved().len() == 1);
    }
}
