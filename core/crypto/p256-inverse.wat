;; x^-1 mod n, n the order of P-256, in constant time: Bernstein and Yang's "safegcd" (Fast
;; constant-time gcd computation and modular inversion, 2019), written for DeskKMS.
;;
;; Why here: `core/crypto/p256-sign.ts` inverts each ECDSA nonce (blinded). A JavaScript BigInt
;; inversion is variable time and costs ~20 us; this one runs a fixed sequence of instructions,
;; whatever the value.
;;
;; Rules this file keeps, and `p256-inverse.test.ts` checks on the module it compiles to:
;; - no `if`, `select`, `br_table`, `br`, `return` or `call_indirect`; the only branches are the
;;   `br_if` that close counted loops, and their condition reads counters alone (locals whose names
;;   start with $i or $j) and constants;
;; - no memory address depends on a value: an address is computed from constants, counters and
;;   the pointer parameters (themselves constants at every call), never from a load;
;; - no division or remainder (variable time on x86-64); the multiplications are i32.mul and
;;   i64.mul, constant time on the CPUs Node supports.
;;
;; Numbers are 9 limbs of 30 bits, least significant first, each an i32 in memory; limbs 0-7 are
;; in [0, 2^30), limb 8 carries the sign. f, g (the gcd pair) are signed; d, e (the cofactors, with
;; f == d*x and g == e*x mod n) stay in (-2n, n), reduced into [0, n) once, at the end.
;;
;; One divstep on (delta, f, g), f odd, as in the paper: if delta > 0 and g is odd, (1 - delta, g, (g - f)/2);
;; otherwise (1 + delta, f, (g + (g mod 2)*f)/2). delta starts at 1. For 256-bit inputs 741 divsteps reach
;; g = 0 (the paper's Theorem 11.2: floor((49*256 + 57)/17)); we run 25 rounds of 30 = 750. Each round
;; does its 30 divsteps on the low 30 bits of f and g alone, collecting the 2x2 matrix
;; T = [u v; q r] with 2^30*(f', g') = T*(f, g), then applies T to the full f, g and to d, e.
;; Random values need far fewer divsteps (531 on average and at most 565 over 100,000 of them, the
;; edge values 1, 2, n-1 and the powers of two at most 546): the 25 rounds come from the proof, not
;; from these, so no input, however chosen, stops short.
;;
;; Interface: the caller writes x (1 <= x < n) as 32 little-endian bytes at IN (0) and calls
;; `invert`; x^-1 mod n is then 32 little-endian bytes at OUT (48). `wipe` zeroes every working
;; area. Memory map (bytes): IN 0..39, OUT 48..87, F 96, G 136, D 176, E 216, NL (n as limbs) 256,
;; T 296, n as little-endian bytes 512..551.
;;
;; The rest of an ECDSA signature's arithmetic mod n is here too, so that no secret (the nonce k,
;; its inverse, the private scalar d) passes through JavaScript's BigInt, whose time depends on
;; its operands: `sign` takes up to 64 jobs (k, the x-coordinate of k*G, the digest e, d), each as
;; 32 big-endian bytes in its slot at SLOTS (4096) + 160*i (k at +0, x at +32, e at +64, d at +96),
;; and 32 random big-endian bytes b at BLIND (3456); it writes s = k^-1 * (e + x*d) mod n as 32
;; big-endian bytes at +128 of each slot and returns 1; 0 when a check failed (the inversion's, or
;; k*s = e + x*d for an s as written, its right side computed again another way): then no s is to
;; be used (a fault). (x stands for r = x mod n: the arithmetic is mod n.) The k are inverted together
;; (Montgomery's trick), with one inversion of b * prod(k): within about 2^-32 of uniform. The
;; module does not check $iEnd: its caller (p256-inverse.ts signatureScalars) keeps it in 1..64;
;; 0 or more than 64 would write outside the slots and prefixes this map gives.
;;
;; Products are Montgomery products M(a, b) = a*b/R mod n with R = 2^270 (CIOS over the 9 limbs),
;; for a, b < 2^257; the result is in [0, n). Constants: R mod n (RN, 560) and R^2 mod n (R2, 600)
;; as limbs. Working numbers W0-W7 at 704 + 40*i, the product's accumulator at 640, prefix
;; products at PREFIX (1024) + 36*i, a byte-order scratch at 3520, 1 as limbs (ONE) at 3568.
(module
  (memory (export "memory") 1)
  (data (i32.const 512)
    "\51\25\63\fc\c2\ca\b9\f3\84\9e\17\a7\ad\fa\e6\bc"
    "\ff\ff\ff\ff\ff\ff\ff\ff\00\00\00\00\ff\ff\ff\ff")
  ;; RN = 2^270 mod n and R2 = 2^540 mod n, as 9 limbs of 30 bits
  (data (i32.const 560)
    "\00\c0\ab\36\9c\03\3d\35\18\31\ec\05\86\8e\25\15\41\c6\10\00"
    "\00\00\00\00\00\00\00\3c\ff\ff\ff\0f\00\00\00\00")
  (data (i32.const 600)
    "\57\ac\87\08\a5\11\d9\05\e0\85\07\13\b8\8a\32\2a\9e\6a\07\19"
    "\58\16\fb\1a\2b\a9\84\24\05\bf\0e\2a\ab\55\00\00")

  ;; n^-1 mod 2^30
  (global $NINV i32 (i32.const 0x11ff43b1))
  (global $M30 i32 (i32.const 0x3fffffff))
  ;; the round's matrix
  (global $u (mut i32) (i32.const 0))
  (global $v (mut i32) (i32.const 0))
  (global $q (mut i32) (i32.const 0))
  (global $r (mut i32) (i32.const 0))

  ;; 32 little-endian bytes at $src (8 zero bytes after them) -> 9 limbs at $dst
  (func $toLimbs (param $src i32) (param $dst i32)
    (local $j i32) (local $bit i32)
    (loop $next
      (local.set $bit (i32.mul (local.get $j) (i32.const 30)))
      (i32.store
        (i32.add (local.get $dst) (i32.shl (local.get $j) (i32.const 2)))
        (i32.and
          (i32.wrap_i64
            (i64.shr_u
              (i64.load (i32.add (local.get $src) (i32.shr_u (local.get $bit) (i32.const 3))))
              (i64.extend_i32_u (i32.and (local.get $bit) (i32.const 7)))))
          (global.get $M30)))
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $j) (i32.const 9)))))

  ;; 9 limbs at $src, a value in [0, 2^256) -> 32 little-endian bytes at $dst (40 bytes written)
  (func $fromLimbs (param $src i32) (param $dst i32)
    (local $j i32) (local $bit i32) (local $at i32)
    (i64.store (local.get $dst) (i64.const 0))
    (i64.store offset=8 (local.get $dst) (i64.const 0))
    (i64.store offset=16 (local.get $dst) (i64.const 0))
    (i64.store offset=24 (local.get $dst) (i64.const 0))
    (i64.store offset=32 (local.get $dst) (i64.const 0))
    (loop $next
      (local.set $bit (i32.mul (local.get $j) (i32.const 30)))
      (local.set $at (i32.add (local.get $dst) (i32.shr_u (local.get $bit) (i32.const 3))))
      (i64.store (local.get $at)
        (i64.or
          (i64.load (local.get $at))
          (i64.shl
            (i64.extend_i32_u (i32.load (i32.add (local.get $src) (i32.shl (local.get $j) (i32.const 2)))))
            (i64.extend_i32_u (i32.and (local.get $bit) (i32.const 7))))))
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $j) (i32.const 9)))))

  ;; 30 divsteps on the low bits $f (odd) and $g; sets $u $v $q $r; returns the new delta
  (func $divsteps (param $delta i32) (param $f i32) (param $g i32) (result i32)
    (local $i i32) (local $u i32) (local $v i32) (local $q i32) (local $r i32)
    (local $odd i32) (local $swap i32) (local $x i32)
    (local.set $u (i32.const 1))
    (local.set $r (i32.const 1))
    (local.set $i (i32.const 30))
    (loop $step
      ;; $odd: all ones when g is odd; $swap: all ones when also delta > 0
      (local.set $odd (i32.sub (i32.const 0) (i32.and (local.get $g) (i32.const 1))))
      (local.set $swap
        (i32.and (local.get $odd)
          (i32.shr_s (i32.sub (i32.const 0) (local.get $delta)) (i32.const 31))))
      ;; when swapping: (delta, f, g) <- (-delta, g, -f), and the rows of T alike
      (local.set $x (i32.and (i32.xor (local.get $f) (local.get $g)) (local.get $swap)))
      (local.set $f (i32.xor (local.get $f) (local.get $x)))
      (local.set $g (i32.sub (i32.xor (i32.xor (local.get $g) (local.get $x)) (local.get $swap)) (local.get $swap)))
      (local.set $x (i32.and (i32.xor (local.get $u) (local.get $q)) (local.get $swap)))
      (local.set $u (i32.xor (local.get $u) (local.get $x)))
      (local.set $q (i32.sub (i32.xor (i32.xor (local.get $q) (local.get $x)) (local.get $swap)) (local.get $swap)))
      (local.set $x (i32.and (i32.xor (local.get $v) (local.get $r)) (local.get $swap)))
      (local.set $v (i32.xor (local.get $v) (local.get $x)))
      (local.set $r (i32.sub (i32.xor (i32.xor (local.get $r) (local.get $x)) (local.get $swap)) (local.get $swap)))
      (local.set $delta (i32.sub (i32.xor (local.get $delta) (local.get $swap)) (local.get $swap)))
      ;; then g <- (g + f*(g mod 2)) / 2, delta <- delta + 1
      (local.set $g (i32.add (local.get $g) (i32.and (local.get $f) (local.get $odd))))
      (local.set $q (i32.add (local.get $q) (i32.and (local.get $u) (local.get $odd))))
      (local.set $r (i32.add (local.get $r) (i32.and (local.get $v) (local.get $odd))))
      (local.set $g (i32.shr_u (local.get $g) (i32.const 1)))
      (local.set $u (i32.shl (local.get $u) (i32.const 1)))
      (local.set $v (i32.shl (local.get $v) (i32.const 1)))
      (local.set $delta (i32.add (local.get $delta) (i32.const 1)))
      (local.set $i (i32.sub (local.get $i) (i32.const 1)))
      (br_if $step (local.get $i)))
    (global.set $u (local.get $u))
    (global.set $v (local.get $v))
    (global.set $q (local.get $q))
    (global.set $r (local.get $r))
    (local.get $delta))

  ;; (f, g) <- T*(f, g) / 2^30 at $pf, $pg (the division is exact)
  (func $updateFg (param $pf i32) (param $pg i32)
    (local $j i32) (local $cf i64) (local $cg i64) (local $fj i64) (local $gj i64)
    (local $u i64) (local $v i64) (local $q i64) (local $r i64)
    (local.set $u (i64.extend_i32_s (global.get $u)))
    (local.set $v (i64.extend_i32_s (global.get $v)))
    (local.set $q (i64.extend_i32_s (global.get $q)))
    (local.set $r (i64.extend_i32_s (global.get $r)))
    (local.set $fj (i64.extend_i32_s (i32.load (local.get $pf))))
    (local.set $gj (i64.extend_i32_s (i32.load (local.get $pg))))
    (local.set $cf (i64.shr_s (i64.add (i64.mul (local.get $u) (local.get $fj)) (i64.mul (local.get $v) (local.get $gj))) (i64.const 30)))
    (local.set $cg (i64.shr_s (i64.add (i64.mul (local.get $q) (local.get $fj)) (i64.mul (local.get $r) (local.get $gj))) (i64.const 30)))
    (local.set $j (i32.const 4))
    (loop $limb
      (local.set $fj (i64.extend_i32_s (i32.load (i32.add (local.get $pf) (local.get $j)))))
      (local.set $gj (i64.extend_i32_s (i32.load (i32.add (local.get $pg) (local.get $j)))))
      (local.set $cf (i64.add (local.get $cf) (i64.add (i64.mul (local.get $u) (local.get $fj)) (i64.mul (local.get $v) (local.get $gj)))))
      (local.set $cg (i64.add (local.get $cg) (i64.add (i64.mul (local.get $q) (local.get $fj)) (i64.mul (local.get $r) (local.get $gj)))))
      (i32.store (i32.sub (i32.add (local.get $pf) (local.get $j)) (i32.const 4)) (i32.and (i32.wrap_i64 (local.get $cf)) (global.get $M30)))
      (i32.store (i32.sub (i32.add (local.get $pg) (local.get $j)) (i32.const 4)) (i32.and (i32.wrap_i64 (local.get $cg)) (global.get $M30)))
      (local.set $cf (i64.shr_s (local.get $cf) (i64.const 30)))
      (local.set $cg (i64.shr_s (local.get $cg) (i64.const 30)))
      (local.set $j (i32.add (local.get $j) (i32.const 4)))
      (br_if $limb (i32.lt_u (local.get $j) (i32.const 36))))
    (i32.store offset=32 (local.get $pf) (i32.wrap_i64 (local.get $cf)))
    (i32.store offset=32 (local.get $pg) (i32.wrap_i64 (local.get $cg))))

  ;; (d, e) <- T*(d, e) / 2^30 mod n at $pd, $pe, as libsecp256k1's modinv32 does it: d and e stay
  ;; in (-2n, n) from round to round, with no reduction between rounds. Where d (e) is negative, n
  ;; times the first (second) column of T is added, as if n had been added to d (e), which puts the
  ;; inputs in [-n, n); then a multiple md (me) of n in (-2^30, 0] further, such that the sum's low
  ;; 30 bits are zero. With |u| + |v| <= 2^30 (and |q| + |r|), |u*d + v*e| <= 2^30*n, so the sum
  ;; divided by 2^30 is in (-2n, n) again. Every sum fits an i64: each of its three products is
  ;; below 2^61 in size (limbs below 2^30, T's entries and md, me at most 2^31 in size).
  (func $updateDe (param $pd i32) (param $pe i32)
    (local $j i32) (local $cd i64) (local $ce i64) (local $dj i64) (local $ej i64) (local $nj i64)
    (local $u i64) (local $v i64) (local $q i64) (local $r i64) (local $md i64) (local $me i64)
    (local $sd i32) (local $se i32) (local $md32 i32) (local $me32 i32)
    (local.set $u (i64.extend_i32_s (global.get $u)))
    (local.set $v (i64.extend_i32_s (global.get $v)))
    (local.set $q (i64.extend_i32_s (global.get $q)))
    (local.set $r (i64.extend_i32_s (global.get $r)))
    ;; the signs of d and e as masks, and the columns of T they select
    (local.set $sd (call $signMask (local.get $pd)))
    (local.set $se (call $signMask (local.get $pe)))
    (local.set $md32 (i32.add (i32.and (global.get $u) (local.get $sd)) (i32.and (global.get $v) (local.get $se))))
    (local.set $me32 (i32.add (i32.and (global.get $q) (local.get $sd)) (i32.and (global.get $r) (local.get $se))))
    (local.set $dj (i64.extend_i32_s (i32.load (local.get $pd))))
    (local.set $ej (i64.extend_i32_s (i32.load (local.get $pe))))
    (local.set $nj (i64.extend_i32_s (i32.load (i32.const 256))))
    (local.set $cd (i64.add (i64.mul (local.get $u) (local.get $dj)) (i64.mul (local.get $v) (local.get $ej))))
    (local.set $ce (i64.add (i64.mul (local.get $q) (local.get $dj)) (i64.mul (local.get $r) (local.get $ej))))
    ;; md <- md - ((cd*n^-1 + md) mod 2^30): then cd + md*n = 0 mod 2^30; me likewise
    (local.set $md (i64.extend_i32_s (i32.sub (local.get $md32)
      (i32.and (i32.add (i32.mul (i32.wrap_i64 (local.get $cd)) (global.get $NINV)) (local.get $md32)) (global.get $M30)))))
    (local.set $me (i64.extend_i32_s (i32.sub (local.get $me32)
      (i32.and (i32.add (i32.mul (i32.wrap_i64 (local.get $ce)) (global.get $NINV)) (local.get $me32)) (global.get $M30)))))
    (local.set $cd (i64.shr_s (i64.add (local.get $cd) (i64.mul (local.get $md) (local.get $nj))) (i64.const 30)))
    (local.set $ce (i64.shr_s (i64.add (local.get $ce) (i64.mul (local.get $me) (local.get $nj))) (i64.const 30)))
    (local.set $j (i32.const 4))
    (loop $limb
      (local.set $dj (i64.extend_i32_s (i32.load (i32.add (local.get $pd) (local.get $j)))))
      (local.set $ej (i64.extend_i32_s (i32.load (i32.add (local.get $pe) (local.get $j)))))
      (local.set $nj (i64.extend_i32_s (i32.load (i32.add (i32.const 256) (local.get $j)))))
      (local.set $cd (i64.add (local.get $cd)
        (i64.add (i64.add (i64.mul (local.get $u) (local.get $dj)) (i64.mul (local.get $v) (local.get $ej)))
                 (i64.mul (local.get $md) (local.get $nj)))))
      (local.set $ce (i64.add (local.get $ce)
        (i64.add (i64.add (i64.mul (local.get $q) (local.get $dj)) (i64.mul (local.get $r) (local.get $ej)))
                 (i64.mul (local.get $me) (local.get $nj)))))
      (i32.store (i32.sub (i32.add (local.get $pd) (local.get $j)) (i32.const 4)) (i32.and (i32.wrap_i64 (local.get $cd)) (global.get $M30)))
      (i32.store (i32.sub (i32.add (local.get $pe) (local.get $j)) (i32.const 4)) (i32.and (i32.wrap_i64 (local.get $ce)) (global.get $M30)))
      (local.set $cd (i64.shr_s (local.get $cd) (i64.const 30)))
      (local.set $ce (i64.shr_s (local.get $ce) (i64.const 30)))
      (local.set $j (i32.add (local.get $j) (i32.const 4)))
      (br_if $limb (i32.lt_u (local.get $j) (i32.const 36))))
    (i32.store offset=32 (local.get $pd) (i32.wrap_i64 (local.get $cd)))
    (i32.store offset=32 (local.get $pe) (i32.wrap_i64 (local.get $ce))))

  ;; a <- a + (n & $mask) at $pa (limbs 0-7 normalised, limb 8 signed)
  (func $addMaskedN (param $pa i32) (param $mask i32)
    (local $j i32) (local $c i64) (local $m i64)
    (local.set $m (i64.extend_i32_s (local.get $mask)))
    (loop $limb
      (local.set $c (i64.add (local.get $c)
        (i64.add
          (i64.extend_i32_s (i32.load (i32.add (local.get $pa) (local.get $j))))
          (i64.and (i64.extend_i32_s (i32.load (i32.add (i32.const 256) (local.get $j)))) (local.get $m)))))
      (i32.store (i32.add (local.get $pa) (local.get $j)) (i32.and (i32.wrap_i64 (local.get $c)) (global.get $M30)))
      (local.set $c (i64.shr_s (local.get $c) (i64.const 30)))
      (local.set $j (i32.add (local.get $j) (i32.const 4)))
      (br_if $limb (i32.lt_u (local.get $j) (i32.const 32))))
    (i32.store offset=32 (local.get $pa)
      (i32.wrap_i64 (i64.add (local.get $c)
        (i64.add
          (i64.extend_i32_s (i32.load offset=32 (local.get $pa)))
          (i64.and (i64.extend_i32_s (i32.load (i32.const 288))) (local.get $m)))))))

  ;; dst <- a - b (dst may be a)
  (func $sub (param $pa i32) (param $pb i32) (param $pdst i32)
    (local $j i32) (local $c i64)
    (loop $limb
      (local.set $c (i64.add (local.get $c)
        (i64.sub
          (i64.extend_i32_s (i32.load (i32.add (local.get $pa) (local.get $j))))
          (i64.extend_i32_s (i32.load (i32.add (local.get $pb) (local.get $j)))))))
      (i32.store (i32.add (local.get $pdst) (local.get $j)) (i32.and (i32.wrap_i64 (local.get $c)) (global.get $M30)))
      (local.set $c (i64.shr_s (local.get $c) (i64.const 30)))
      (local.set $j (i32.add (local.get $j) (i32.const 4)))
      (br_if $limb (i32.lt_u (local.get $j) (i32.const 32))))
    (i32.store offset=32 (local.get $pdst)
      (i32.wrap_i64 (i64.add (local.get $c)
        (i64.sub
          (i64.extend_i32_s (i32.load offset=32 (local.get $pa)))
          (i64.extend_i32_s (i32.load offset=32 (local.get $pb))))))))

  ;; the sign of the number at $pa as a mask: all ones when negative
  (func $signMask (param $pa i32) (result i32)
    (i32.shr_s (i32.load offset=32 (local.get $pa)) (i32.const 31)))

  (func $zero (param $pa i32) (param $jEnd i32)
    (local $j i32)
    (loop $word
      (i64.store (i32.add (local.get $pa) (local.get $j)) (i64.const 0))
      (local.set $j (i32.add (local.get $j) (i32.const 8)))
      (br_if $word (i32.lt_u (local.get $j) (local.get $jEnd)))))

  (func $invert (export "invert")
    (local $i i32) (local $delta i32)
    (call $toLimbs (i32.const 512) (i32.const 256))   ;; NL = n
    (call $toLimbs (i32.const 512) (i32.const 96))    ;; f = n
    (call $toLimbs (i32.const 0) (i32.const 136))     ;; g = x
    (call $zero (i32.const 176) (i32.const 80))       ;; d = 0, e = 0 (D 176..215, E 216..255)
    (i32.store (i32.const 216) (i32.const 1))         ;; e = 1
    (local.set $delta (i32.const 1))
    (local.set $i (i32.const 25))
    (loop $round
      (local.set $delta (call $divsteps (local.get $delta) (i32.load (i32.const 96)) (i32.load (i32.const 136))))
      (call $updateFg (i32.const 96) (i32.const 136))
      (call $updateDe (i32.const 176) (i32.const 216))
      (local.set $i (i32.sub (local.get $i) (i32.const 1)))
      (br_if $round (local.get $i)))
    ;; f = +-1 now and f == d*x: the inverse is d, or -d when f = -1
    (call $finish (call $signMask (i32.const 96))))

  ;; D (176) in (-2n, n) -> D, or -D when $negate is all ones, mod n in [0, n), as 32
  ;; little-endian bytes at OUT. Adding n where D is negative puts it in (-n, n); then T = -D, and
  ;; D or T is picked; adding n where that is negative puts it in [0, n).
  (func $finish (param $negate i32)
    (local $j i32) (local $x i32)
    (call $addMaskedN (i32.const 176) (call $signMask (i32.const 176)))
    (call $zero (i32.const 296) (i32.const 40))
    (call $sub (i32.const 296) (i32.const 176) (i32.const 296))
    (loop $limb
      (local.set $x (i32.and
        (i32.xor (i32.load (i32.add (i32.const 176) (local.get $j))) (i32.load (i32.add (i32.const 296) (local.get $j))))
        (local.get $negate)))
      (i32.store (i32.add (i32.const 176) (local.get $j))
        (i32.xor (i32.load (i32.add (i32.const 176) (local.get $j))) (local.get $x)))
      (local.set $j (i32.add (local.get $j) (i32.const 4)))
      (br_if $limb (i32.lt_u (local.get $j) (i32.const 36))))
    (call $addMaskedN (i32.const 176) (call $signMask (i32.const 176)))
    (call $fromLimbs (i32.const 176) (i32.const 48)))

  ;; ---- the signature's arithmetic (see the top of the file)

  ;; dst <- a + b (no reduction; limbs 0-7 normalised)
  (func $add (param $pa i32) (param $pb i32) (param $pdst i32)
    (local $j i32) (local $c i64)
    (loop $limb
      (local.set $c (i64.add (local.get $c)
        (i64.add
          (i64.extend_i32_u (i32.load (i32.add (local.get $pa) (local.get $j))))
          (i64.extend_i32_u (i32.load (i32.add (local.get $pb) (local.get $j)))))))
      (i32.store (i32.add (local.get $pdst) (local.get $j)) (i32.and (i32.wrap_i64 (local.get $c)) (global.get $M30)))
      (local.set $c (i64.shr_u (local.get $c) (i64.const 30)))
      (local.set $j (i32.add (local.get $j) (i32.const 4)))
      (br_if $limb (i32.lt_u (local.get $j) (i32.const 32))))
    (i32.store offset=32 (local.get $pdst)
      (i32.wrap_i64 (i64.add (local.get $c)
        (i64.add
          (i64.extend_i32_u (i32.load offset=32 (local.get $pa)))
          (i64.extend_i32_u (i32.load offset=32 (local.get $pb))))))))

  ;; dst <- a * b / 2^270 mod n, in [0, n), for a, b < 2^257 as limbs (dst may be a or b).
  ;; CIOS: per limb of a, t += a_i * b, then t += m * n with m making t's low limb 0, then t >>= 30.
  ;; t (limbs t0-t10 at 640..683) stays below 2n, so one subtraction of n, undone when negative.
  (func $mont (param $pa i32) (param $pb i32) (param $pdst i32)
    (local $i i32) (local $j i32) (local $c i64) (local $x i64) (local $ai i64) (local $m i64)
    (call $zero (i32.const 640) (i32.const 48))
    (loop $outer
      (local.set $ai (i64.extend_i32_u (i32.load (i32.add (local.get $pa) (local.get $i)))))
      (local.set $c (i64.const 0))
      (local.set $j (i32.const 0))
      (loop $product
        (local.set $x (i64.add
          (i64.add
            (i64.extend_i32_u (i32.load (i32.add (i32.const 640) (local.get $j))))
            (i64.mul (local.get $ai) (i64.extend_i32_u (i32.load (i32.add (local.get $pb) (local.get $j))))))
          (local.get $c)))
        (i32.store (i32.add (i32.const 640) (local.get $j)) (i32.and (i32.wrap_i64 (local.get $x)) (global.get $M30)))
        (local.set $c (i64.shr_u (local.get $x) (i64.const 30)))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br_if $product (i32.lt_u (local.get $j) (i32.const 36))))
      ;; (t10, t9) <- t9 + c
      (local.set $x (i64.add (i64.extend_i32_u (i32.load (i32.const 676))) (local.get $c)))
      (i32.store (i32.const 676) (i32.and (i32.wrap_i64 (local.get $x)) (global.get $M30)))
      (i32.store (i32.const 680) (i32.wrap_i64 (i64.shr_u (local.get $x) (i64.const 30))))
      ;; m = -t0 * n^-1 mod 2^30; t0 + m*n0 is a multiple of 2^30
      (local.set $m (i64.extend_i32_u (i32.and
        (i32.sub (i32.const 0) (i32.mul (i32.load (i32.const 640)) (global.get $NINV)))
        (global.get $M30))))
      (local.set $c (i64.shr_u
        (i64.add (i64.extend_i32_u (i32.load (i32.const 640))) (i64.mul (local.get $m) (i64.extend_i32_u (i32.load (i32.const 256)))))
        (i64.const 30)))
      (local.set $j (i32.const 4))
      (loop $reduce
        (local.set $x (i64.add
          (i64.add
            (i64.extend_i32_u (i32.load (i32.add (i32.const 640) (local.get $j))))
            (i64.mul (local.get $m) (i64.extend_i32_u (i32.load (i32.add (i32.const 256) (local.get $j))))))
          (local.get $c)))
        ;; t_(j-1) <- the low 30 bits: the shift by one limb
        (i32.store (i32.add (i32.const 636) (local.get $j)) (i32.and (i32.wrap_i64 (local.get $x)) (global.get $M30)))
        (local.set $c (i64.shr_u (local.get $x) (i64.const 30)))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br_if $reduce (i32.lt_u (local.get $j) (i32.const 36))))
      ;; t8 <- low(t9 + c), t9 <- t10 + high(t9 + c)
      (local.set $x (i64.add (i64.extend_i32_u (i32.load (i32.const 676))) (local.get $c)))
      (i32.store (i32.const 672) (i32.and (i32.wrap_i64 (local.get $x)) (global.get $M30)))
      (i32.store (i32.const 676) (i32.add (i32.load (i32.const 680)) (i32.wrap_i64 (i64.shr_u (local.get $x) (i64.const 30)))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br_if $outer (i32.lt_u (local.get $i) (i32.const 36))))
    (call $sub (i32.const 640) (i32.const 256) (local.get $pdst))
    (call $addMaskedN (local.get $pdst) (call $signMask (local.get $pdst))))

  ;; 9 limbs at $src <- (copied to) $dst
  (func $copy (param $src i32) (param $dst i32)
    (local $j i32)
    (loop $limb
      (i32.store (i32.add (local.get $dst) (local.get $j)) (i32.load (i32.add (local.get $src) (local.get $j))))
      (local.set $j (i32.add (local.get $j) (i32.const 4)))
      (br_if $limb (i32.lt_u (local.get $j) (i32.const 36)))))

  ;; the 32 big-endian bytes at $pa + 160*$iSlot -> 9 limbs at $dst (through the scratch at 3520)
  (func $readBE (param $pa i32) (param $iSlot i32) (param $dst i32)
    (local $j i32) (local $at i32)
    (local.set $at (i32.add (local.get $pa) (i32.mul (local.get $iSlot) (i32.const 160))))
    (i64.store (i32.const 3552) (i64.const 0))
    (loop $byte
      (i32.store8 (i32.add (i32.const 3520) (local.get $j)) (i32.load8_u (i32.sub (i32.add (local.get $at) (i32.const 31)) (local.get $j))))
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br_if $byte (i32.lt_u (local.get $j) (i32.const 32))))
    (call $toLimbs (i32.const 3520) (local.get $dst)))

  ;; 9 limbs at $src, a value in [0, 2^256) -> 32 big-endian bytes at $pa + 160*$iSlot
  (func $writeBE (param $src i32) (param $pa i32) (param $iSlot i32)
    (local $j i32) (local $at i32)
    (local.set $at (i32.add (local.get $pa) (i32.mul (local.get $iSlot) (i32.const 160))))
    (call $fromLimbs (local.get $src) (i32.const 3520))
    (loop $byte
      (i32.store8 (i32.sub (i32.add (local.get $at) (i32.const 31)) (local.get $j)) (i32.load8_u (i32.add (i32.const 3520) (local.get $j))))
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br_if $byte (i32.lt_u (local.get $j) (i32.const 32)))))

  ;; the OR of the XORs of two numbers' limbs: 0 when they are equal
  (func $differs (param $pa i32) (param $pb i32) (result i32)
    (local $j i32) (local $x i32)
    (loop $limb
      (local.set $x (i32.or (local.get $x)
        (i32.xor (i32.load (i32.add (local.get $pa) (local.get $j))) (i32.load (i32.add (local.get $pb) (local.get $j))))))
      (local.set $j (i32.add (local.get $j) (i32.const 4)))
      (br_if $limb (i32.lt_u (local.get $j) (i32.const 36))))
    (local.get $x))

  ;; prefix product number $iSlot <- 9 limbs at $src, and back
  (func $putPrefix (param $src i32) (param $iSlot i32)
    (local $j i32) (local $at i32)
    (local.set $at (i32.add (i32.const 1024) (i32.mul (local.get $iSlot) (i32.const 36))))
    (loop $limb
      (i32.store (i32.add (local.get $at) (local.get $j)) (i32.load (i32.add (local.get $src) (local.get $j))))
      (local.set $j (i32.add (local.get $j) (i32.const 4)))
      (br_if $limb (i32.lt_u (local.get $j) (i32.const 36)))))
  (func $getPrefix (param $iSlot i32) (param $dst i32)
    (local $j i32) (local $at i32)
    (local.set $at (i32.add (i32.const 1024) (i32.mul (local.get $iSlot) (i32.const 36))))
    (loop $limb
      (i32.store (i32.add (local.get $dst) (local.get $j)) (i32.load (i32.add (local.get $at) (local.get $j))))
      (local.set $j (i32.add (local.get $j) (i32.const 4)))
      (br_if $limb (i32.lt_u (local.get $j) (i32.const 36)))))

  ;; s for the jobs in slots 0 .. $iEnd - 1 (1 <= $iEnd <= 64): see the top of the file.
  ;; With prefix products P_i = k_0 ... k_i / R^i (P_-1 = R mod n kept at prefix 0, P_i at i + 1):
  ;; A = M(P_last, b) is inverted; Q = M(A^-1, b*R) = R^iEnd / prod(k); then for i from the last
  ;; down, M(Q, P_(i-1)) = R / k_i and Q <- M(Q, k_i); s_i = M(R / k_i, e_i + M(x_i, d_i * R)).
  (func (export "sign") (param $iEnd i32) (result i32)
    (local $i i32) (local $j i32) (local $x i32)
    (call $toLimbs (i32.const 512) (i32.const 256))   ;; NL = n
    (call $zero (i32.const 3568) (i32.const 40))      ;; ONE = 1, as limbs
    (i32.store (i32.const 3568) (i32.const 1))
    (call $copy (i32.const 560) (i32.const 704))      ;; W0 = R mod n
    (call $putPrefix (i32.const 704) (i32.const 0))
    (loop $forward
      (call $readBE (i32.const 4096) (local.get $i) (i32.const 744))   ;; W1 = k_i
      (call $mont (i32.const 704) (i32.const 744) (i32.const 704))     ;; W0 = P_i
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (call $putPrefix (i32.const 704) (local.get $i))
      (br_if $forward (i32.lt_u (local.get $i) (local.get $iEnd))))
    (call $readBE (i32.const 3456) (i32.const 0) (i32.const 784))      ;; W2 = b
    (call $mont (i32.const 704) (i32.const 784) (i32.const 824))       ;; W3 = A
    (call $fromLimbs (i32.const 824) (i32.const 0))                     ;; IN = A
    (call $invert)
    (call $copy (i32.const 176) (i32.const 864))                        ;; W4 = A^-1
    ;; the check: M(M(A, A^-1), R^2) = 1
    (call $mont (i32.const 824) (i32.const 864) (i32.const 904))
    (call $mont (i32.const 904) (i32.const 600) (i32.const 904))
    (local.set $x (i32.xor (i32.load (i32.const 904)) (i32.const 1)))
    (local.set $j (i32.const 4))
    (loop $limb
      (local.set $x (i32.or (local.get $x) (i32.load (i32.add (i32.const 904) (local.get $j)))))
      (local.set $j (i32.add (local.get $j) (i32.const 4)))
      (br_if $limb (i32.lt_u (local.get $j) (i32.const 36))))
    (call $mont (i32.const 784) (i32.const 600) (i32.const 784))       ;; W2 = b*R
    (call $mont (i32.const 864) (i32.const 784) (i32.const 864))       ;; W4 = Q
    (local.set $j (local.get $iEnd))
    (loop $backward
      (local.set $i (i32.sub (local.get $j) (i32.const 1)))
      (call $getPrefix (local.get $i) (i32.const 904))
      (call $mont (i32.const 864) (i32.const 904) (i32.const 904))     ;; W5 = R / k_i
      (call $readBE (i32.const 4096) (local.get $i) (i32.const 744))
      (call $mont (i32.const 864) (i32.const 744) (i32.const 864))     ;; Q <- Q * k_i / R
      (call $readBE (i32.const 4192) (local.get $i) (i32.const 944))   ;; W6 = d_i
      (call $mont (i32.const 944) (i32.const 600) (i32.const 944))     ;; d_i * R
      (call $readBE (i32.const 4128) (local.get $i) (i32.const 984))   ;; W7 = x_i
      (call $mont (i32.const 984) (i32.const 944) (i32.const 944))     ;; x_i * d_i mod n
      (call $readBE (i32.const 4160) (local.get $i) (i32.const 984))   ;; e_i
      (call $add (i32.const 984) (i32.const 944) (i32.const 984))      ;; e_i + x_i * d_i
      (call $mont (i32.const 904) (i32.const 984) (i32.const 904))     ;; s_i
      (call $writeBE (i32.const 904) (i32.const 4224) (local.get $i))
      ;; the check of s_i as written: k_i * s_i = e_i + x_i * d_i mod n, the right side computed
      ;; again another way (x_i * R first) from the slot's bytes, both sides divided by R
      (call $readBE (i32.const 4224) (local.get $i) (i32.const 904))   ;; W5 = s_i, read back
      (call $mont (i32.const 744) (i32.const 904) (i32.const 944))     ;; W6 = k_i * s_i / R
      (call $readBE (i32.const 4128) (local.get $i) (i32.const 784))   ;; W2 = x_i
      (call $mont (i32.const 784) (i32.const 600) (i32.const 784))     ;; x_i * R
      (call $readBE (i32.const 4192) (local.get $i) (i32.const 824))   ;; W3 = d_i
      (call $mont (i32.const 784) (i32.const 824) (i32.const 784))     ;; x_i * d_i mod n
      (call $readBE (i32.const 4160) (local.get $i) (i32.const 824))   ;; e_i
      (call $add (i32.const 824) (i32.const 784) (i32.const 824))
      (call $mont (i32.const 824) (i32.const 3568) (i32.const 824))    ;; (e_i + x_i * d_i) / R
      (local.set $x (i32.or (local.get $x) (call $differs (i32.const 944) (i32.const 824))))
      (local.set $j (local.get $i))
      (br_if $backward (local.get $j)))
    (i32.eqz (local.get $x)))

  ;; zero IN, OUT, every working number, the slots and the blinding (the data segments stay)
  (func (export "wipe")
    (call $zero (i32.const 0) (i32.const 336))
    (call $zero (i32.const 640) (i32.const 13696))
    (global.set $u (i32.const 0))
    (global.set $v (i32.const 0))
    (global.set $q (i32.const 0))
    (global.set $r (i32.const 0))))
