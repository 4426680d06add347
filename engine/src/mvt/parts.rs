//! Sequences of points stored end to end in one buffer: a polygon's rings
//! as they go through the pipeline. Kept from feature to feature, so a
//! tile of thousands of polygons allocates once, not per ring and stage.

/// A list of parts (rings), each a slice of points.
#[derive(Debug, Clone)]
pub(super) struct Parts<P> {
    points: Vec<P>,
    /// Where each part ends in `points`.
    ends: Vec<usize>,
}

impl<P> Default for Parts<P> {
    fn default() -> Self {
        Parts {
            points: Vec::new(),
            ends: Vec::new(),
        }
    }
}

impl<P: Copy> Parts<P> {
    pub fn clear(&mut self) {
        self.points.clear();
        self.ends.clear();
    }

    /// Appends `part` as the last part.
    pub fn push(&mut self, part: &[P]) {
        self.points.extend_from_slice(part);
        self.ends.push(self.points.len());
    }

    /// Appends the points of `part` as the last part.
    pub fn push_iter(&mut self, part: impl IntoIterator<Item = P>) {
        self.points.extend(part);
        self.ends.push(self.points.len());
    }

    /// Appends `point` to the part being built (after the last ended one).
    pub fn push_point(&mut self, point: P) {
        self.points.push(point);
    }

    /// Ends the part being built, if it has any point.
    pub fn end_part(&mut self) {
        if self.points.len() > self.ends.last().copied().unwrap_or(0) {
            self.ends.push(self.points.len());
        }
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// The number of points in all parts.
    pub fn point_count(&self) -> usize {
        self.points.len()
    }

    /// The `i`-th part.
    pub fn get(&self, i: usize) -> &[P] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.points[start..self.ends[i]]
    }

    pub fn iter(&self) -> impl Iterator<Item = &[P]> {
        (0..self.len()).map(|i| self.get(i))
    }
}

#[cfg(test)]
impl<P: Copy> Parts<P> {
    /// The parts of `parts`, for tests.
    pub fn of(parts: &[Vec<P>]) -> Self {
        let mut out = Parts::default();
        parts.iter().for_each(|p| out.push(p));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_come_back_as_pushed_and_clear_empties() {
        let mut parts = Parts::default();
        parts.push(&[1, 2, 3]);
        parts.push(&[]);
        parts.push_iter([4, 5]);
        assert_eq!(parts.len(), 3);
        assert_eq!(parts.point_count(), 5);
        let all: Vec<&[i32]> = parts.iter().collect();
        assert_eq!(all, [&[1, 2, 3][..], &[], &[4, 5]]);
        parts.push_point(7);
        parts.end_part();
        parts.end_part();
        assert_eq!(parts.len(), 4);
        assert_eq!(parts.get(3), [7]);
        parts.clear();
        assert_eq!(parts.len(), 0);
        parts.push(&[6]);
        assert_eq!(parts.get(0), [6]);
    }
}
