//! A fixed-size bitset over the records of one block (block-relative offsets).

/// Set of block-relative record positions `0..len`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bits {
    words: Vec<u64>,
    len: usize,
}

impl Bits {
    /// The empty set.
    pub fn none(len: usize) -> Bits {
        Bits {
            words: vec![0; len.div_ceil(64)],
            len,
        }
    }

    /// Every position.
    pub fn all(len: usize) -> Bits {
        let mut b = Bits {
            words: vec![u64::MAX; len.div_ceil(64)],
            len,
        };
        b.trim();
        b
    }

    /// Positions `lo..hi` (clamped).
    pub fn range(len: usize, lo: usize, hi: usize) -> Bits {
        let mut b = Bits::none(len);
        for i in lo.min(len)..hi.min(len) {
            b.set(i);
        }
        b
    }

    /// The set of the given positions (those `>= len` are ignored).
    pub fn from_positions(len: usize, it: impl IntoIterator<Item = usize>) -> Bits {
        let mut b = Bits::none(len);
        for i in it {
            b.set(i);
        }
        b
    }

    /// Bits past `len` in the last word stay clear, so counts and complements are right.
    fn trim(&mut self) {
        let extra = self.words.len() * 64 - self.len;
        if extra > 0 {
            if let Some(last) = self.words.last_mut() {
                *last &= u64::MAX >> extra;
            }
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn set(&mut self, i: usize) {
        if i < self.len {
            if let Some(w) = self.words.get_mut(i / 64) {
                *w |= 1 << (i % 64);
            }
        }
    }

    pub fn get(&self, i: usize) -> bool {
        self.words
            .get(i / 64)
            .is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    pub fn clear(&mut self, i: usize) {
        if let Some(w) = self.words.get_mut(i / 64) {
            *w &= !(1 << (i % 64));
        }
    }

    pub fn and(&mut self, o: &Bits) {
        for (a, b) in self.words.iter_mut().zip(&o.words) {
            *a &= b;
        }
    }

    pub fn or(&mut self, o: &Bits) {
        for (a, b) in self.words.iter_mut().zip(&o.words) {
            *a |= b;
        }
    }

    /// Remove every position of `o`.
    pub fn and_not(&mut self, o: &Bits) {
        for (a, b) in self.words.iter_mut().zip(&o.words) {
            *a &= !b;
        }
    }

    pub fn not(&mut self) {
        for a in &mut self.words {
            *a = !*a;
        }
        self.trim();
    }

    pub fn count(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.words.iter().all(|w| *w == 0)
    }

    pub fn is_full(&self) -> bool {
        self.count() == self.len
    }

    /// Positions, ascending.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = usize> + '_ {
        self.words.iter().enumerate().flat_map(|(wi, &w)| {
            let mut v = Vec::with_capacity(w.count_ones() as usize);
            let mut x = w;
            while x != 0 {
                v.push(wi * 64 + x.trailing_zeros() as usize);
                x &= x - 1;
            }
            v
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_algebra() {
        let mut a = Bits::from_positions(70, [1, 5, 69, 200]);
        assert_eq!(a.iter().collect::<Vec<_>>(), [1, 5, 69]);
        let b = Bits::range(70, 4, 66);
        let mut c = a.clone();
        c.and(&b);
        assert_eq!(c.iter().collect::<Vec<_>>(), [5]);
        a.not();
        assert_eq!(a.count(), 67);
        assert!(Bits::all(70).is_full());
        assert_eq!(Bits::all(70).iter().next_back(), Some(69));
    }
}
