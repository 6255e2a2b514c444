//! Element-wise math over an instant vector (`abs`, `ln`, `sin`, …, `round`,
//! the clamps) and the functions of scalars (`pi`, `min_of`, `max_of`).

use super::{map, Args};
use crate::engine::Val;

/// The math function `name` over `args`; None when `name` is not one.
pub(super) fn call(name: &str, args: &mut Args) -> Option<Val> {
    let unary: Option<fn(f64) -> f64> = match name {
        "abs" => Some(f64::abs),
        "ceil" => Some(f64::ceil),
        "floor" => Some(f64::floor),
        "exp" => Some(f64::exp),
        "ln" => Some(f64::ln),
        "log2" => Some(f64::log2),
        "log10" => Some(f64::log10),
        "sqrt" => Some(f64::sqrt),
        "sgn" => Some(sgn),
        "deg" => Some(|v| v * 180.0 / std::f64::consts::PI),
        "rad" => Some(|v| v * std::f64::consts::PI / 180.0),
        "sin" => Some(f64::sin),
        "cos" => Some(f64::cos),
        "tan" => Some(f64::tan),
        "asin" => Some(f64::asin),
        "acos" => Some(f64::acos),
        "atan" => Some(f64::atan),
        "sinh" => Some(f64::sinh),
        "cosh" => Some(f64::cosh),
        "tanh" => Some(f64::tanh),
        "asinh" => Some(f64::asinh),
        "acosh" => Some(f64::acosh),
        "atanh" => Some(f64::atanh),
        _ => None,
    };
    if let Some(f) = unary {
        return Some(map(args.vector(0), f));
    }
    Some(match name {
        "round" => {
            let to = if args.len() > 1 { args.scalar(1) } else { 1.0 };
            let inv = 1.0 / to;
            map(args.vector(0), move |v| (v * inv + 0.5).floor() / inv)
        }
        "clamp" => {
            let (lo, hi) = (args.scalar(1), args.scalar(2));
            if lo > hi {
                return Some(Val::Vector(Vec::new()));
            }
            map(args.vector(0), move |v| v.max(lo).min(hi))
        }
        "clamp_min" => {
            let lo = args.scalar(1);
            map(args.vector(0), move |v| v.max(lo))
        }
        "clamp_max" => {
            let hi = args.scalar(1);
            map(args.vector(0), move |v| v.min(hi))
        }
        "pi" => Val::Scalar(std::f64::consts::PI),
        // Experimental: the smaller or larger of two scalars, NaN if either is.
        "min_of" | "max_of" => {
            let (a, b) = (args.scalar(0), args.scalar(1));
            Val::Scalar(match (a.is_nan() || b.is_nan(), name == "min_of") {
                (true, _) => f64::NAN,
                (false, true) => a.min(b),
                (false, false) => a.max(b),
            })
        }
        _ => return None,
    })
}

/// The sign of `v` (zero and NaN as they are).
fn sgn(v: f64) -> f64 {
    if v > 0.0 {
        1.0
    } else if v < 0.0 {
        -1.0
    } else {
        v
    }
}
