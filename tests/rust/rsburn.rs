// rsburn - a small threaded Rust program for tests/rust: named functions (free, trait impl,
// generic) under two threads, ~0.25 s CPU each, built with each symbol mangling scheme.
use std::hint::black_box;
use std::thread;

trait Area {
    fn area(&self, n: u64) -> u64;
}

struct Square(u64);

impl Area for Square {
    #[inline(never)]
    fn area(&self, n: u64) -> u64 {
        spin(n * self.0).wrapping_add(self.0)
    }
}

#[inline(never)]
fn spin(n: u64) -> u64 {
    let mut x = 0u64;
    for i in 0..n {
        x = black_box(x.wrapping_mul(6364136223846793005).wrapping_add(i));
    }
    x
}

#[inline(never)]
fn burn_a(n: u64) -> u64 {
    spin(black_box(n)).rotate_left(1)
}

#[inline(never)]
fn burn_b(n: u64) -> u64 {
    Square(1).area(black_box(n)).rotate_left(1)
}

#[inline(never)]
fn worker(n: u64) -> u64 {
    let mut x = 0;
    for _ in 0..n {
        x ^= burn_a(1_000_000) ^ burn_b(1_000_000);
    }
    x
}

fn main() {
    let rounds: u64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(150);
    let handles: Vec<_> = (0..2).map(|_| thread::spawn(move || worker(rounds))).collect();
    let x = handles.into_iter().fold(0, |x, h| x ^ h.join().unwrap());
    println!("rsburn {}", x & 1);
}
