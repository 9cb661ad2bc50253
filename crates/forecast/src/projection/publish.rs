//! Projected tables for outside the lab, protected with the disclosure gate's own rule.
//!
//! A projection starts from the register's exact counts by zone, sex and single age (the base
//! year reproduces them), and its first years stay close to them: printed as they are, small
//! cells would disclose people. Tables meant to leave the lab are therefore rounded with the
//! gate's unbiased random rounding ([`disclosure::round::random`]) to the project's rounding
//! base (`[disclosure] rounding_base`, default 5), with draws keyed by the lab's disclosure
//! secret and the table's name, exactly as a release rounds a frame: the same cell of the same
//! table rounds the same way every time, so repeated runs cannot be averaged towards the true
//! value, and nobody without the secret can predict a draw.

use disclosure::{Dim, Kind, Table};

/// The rounded values of `rows` (each identified by its codes, e.g. `year=2030|zone=Z01`),
/// as the gate would round a one-dimensional frame named `frame`.
pub fn round_rows(frame: &str, rows: &[(String, f64)], base: u32, secret: &[u8; 32]) -> Vec<f64> {
    let codes: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    let mut table = Table::new(frame, Kind::Frequency, vec![Dim::flat("row", &codes)]);
    for (i, (_, v)) in rows.iter().enumerate() {
        table.cells[i + 1].value = *v;
    }
    let seed = {
        let mut h = blake3::Hasher::new_keyed(secret);
        h.update(frame.as_bytes());
        *h.finalize().as_bytes()
    };
    let rounded = disclosure::round::random(&table, base, &seed);
    rounded[1..].to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_to_the_base_reproducibly_and_keeps_multiples() {
        let rows: Vec<(String, f64)> = (0..200)
            .map(|i| (format!("zone=Z{i}"), f64::from(i) * 0.7))
            .collect();
        let secret = [7u8; 32];
        let a = round_rows("projection/baseline/population", &rows, 5, &secret);
        let b = round_rows("projection/baseline/population", &rows, 5, &secret);
        assert_eq!(a, b);
        for ((_, v), r) in rows.iter().zip(&a) {
            assert_eq!(r % 5.0, 0.0);
            // to the multiple just below or just above
            assert!(
                *r == (v / 5.0).floor() * 5.0 || *r == (v / 5.0).ceil() * 5.0,
                "{v} -> {r}"
            );
        }
        // multiples of the base do not move
        assert_eq!(a[0], 0.0);
        // another secret draws differently somewhere
        let c = round_rows("projection/baseline/population", &rows, 5, &[8u8; 32]);
        assert_ne!(a, c);
        // unbiased: the total of the rounded values stays near the true total
        let (t, rt): (f64, f64) = (rows.iter().map(|r| r.1).sum(), a.iter().sum());
        assert!((t - rt).abs() < 5.0 * 200f64.sqrt() * 2.0, "{t} vs {rt}");
    }
}
