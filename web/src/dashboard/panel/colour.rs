//! Colours as Grafana names and computes them: its named palette with
//! shades, and its continuous schemes.

/// Colours Grafana names in thresholds, as hex.
pub(crate) fn named_colour(c: &str) -> String {
    // Grafana's named palette: each hue's super-light, light, base, semi-dark and dark shade.
    const SHADES: [(&str, [&str; 5]); 6] = [
        ("green", ["#C8F2C2", "#96D98D", "#73BF69", "#56A64B", "#37872D"]),
        ("red", ["#FFA6B0", "#FF7383", "#F2495C", "#E02F44", "#C4162A"]),
        ("yellow", ["#FFF899", "#FFEE52", "#FADE2A", "#F2CC0C", "#E0B400"]),
        ("orange", ["#FFCB7D", "#FFB357", "#FF9830", "#FF780A", "#FA6400"]),
        ("blue", ["#C0D8FF", "#8AB8FF", "#5794F2", "#3274D9", "#1F60C4"]),
        ("purple", ["#DEB6F2", "#CA95E5", "#B877D9", "#A352CC", "#8F3BB8"]),
    ];
    let (shade, hue) = [("super-light-", 0), ("light-", 1), ("semi-dark-", 3), ("dark-", 4)]
        .iter()
        .find_map(|(prefix, k)| c.strip_prefix(prefix).map(|hue| (*k, hue)))
        .unwrap_or((2, c));
    if let Some((_, shades)) = SHADES.iter().find(|(name, _)| *name == hue) {
        return shades[shade].into();
    }
    match c {
        c if c.starts_with('#') || c.starts_with("rgb") => c.chars().filter(|c| !"<>\"';".contains(*c)).collect(),
        _ => "inherit".into(),
    }
}

/// The colours of Grafana's continuous colour schemes (`continuous-GrYlRd`, …), low to high.
pub(crate) fn scheme(name: &str) -> Option<&'static [(u8, u8, u8)]> {
    const GREEN: (u8, u8, u8) = (0x73, 0xBF, 0x69);
    const YELLOW: (u8, u8, u8) = (0xFA, 0xDE, 0x2A);
    const RED: (u8, u8, u8) = (0xF2, 0x49, 0x5C);
    const BLUE: (u8, u8, u8) = (0x57, 0x94, 0xF2);
    const PURPLE: (u8, u8, u8) = (0xB8, 0x77, 0xD9);
    Some(match name {
        "GrYlRd" => &[GREEN, YELLOW, RED],
        "RdYlGr" => &[RED, YELLOW, GREEN],
        "BlYlRd" => &[BLUE, YELLOW, RED],
        "YlRd" => &[YELLOW, RED],
        "BlPu" => &[BLUE, PURPLE],
        "YlBl" => &[YELLOW, BLUE],
        "blues" => &[(0xC0, 0xD8, 0xFF), (0x1F, 0x60, 0xC4)],
        "reds" => &[(0xFF, 0xA6, 0xB0), (0xC4, 0x16, 0x2A)],
        "greens" => &[(0xC8, 0xF2, 0xC2), (0x37, 0x87, 0x2D)],
        "purples" => &[(0xDE, 0xB6, 0xF2), (0x8F, 0x3B, 0xB8)],
        _ => return None,
    })
}

/// The colour at `frac` (clamped to 0..=1; NaN as 0) along evenly spaced `stops`, as `#rrggbb`.
pub(crate) fn gradient(stops: &[(u8, u8, u8)], frac: f64) -> String {
    let f = if frac.is_nan() { 0.0 } else { frac.clamp(0.0, 1.0) } * (stops.len() - 1) as f64;
    let k = (f.floor() as usize).min(stops.len() - 2);
    let (a, b, t) = (stops[k], stops[k + 1], f - k as f64);
    let mix = |x: u8, y: u8| (f64::from(x) + (f64::from(y) - f64::from(x)) * t).round() as u8;
    format!("#{:02X}{:02X}{:02X}", mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Grafana's `shades` colour mode: series `index` of a panel takes the fixed
/// colour, then alternately darker and lighter shades of it (mixed with black
/// and with white at 90, 80 … 40 %), thirteen in all, round again.
pub(crate) fn shade(base: &str, index: usize) -> String {
    let hex = named_colour(base);
    let rgb = match hex.strip_prefix('#').filter(|h| h.len() == 6).and_then(|h| u32::from_str_radix(h, 16).ok()) {
        Some(v) => [(v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff].map(f64::from),
        None => [127.0; 3],
    };
    let k = index % 13;
    if k == 0 {
        return hex;
    }
    let fraction = 0.9 - 0.1 * ((k - 1) / 2) as f64;
    let towards = if k % 2 == 1 { 0.0 } else { 255.0 };
    let [r, g, b] = rgb.map(|c| (c * fraction + towards * (1.0 - fraction)).round().clamp(0.0, 255.0) as u8);
    format!("#{r:02x}{g:02x}{b:02x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shades_alternate_darker_and_lighter_of_the_fixed_colour() {
        assert_eq!(shade("#808080", 0), "#808080");
        assert_eq!(shade("#808080", 1), "#737373", "90 % towards black");
        assert_eq!(shade("#808080", 2), "#8d8d8d", "90 % towards white");
        assert_eq!(shade("#808080", 12), "#cccccc", "40 % of it, 60 % white");
        assert_eq!(shade("#808080", 13), "#808080", "round again");
        assert_eq!(shade("rgb(1,2,3)", 1), "#727272", "non-hex colours shade grey, as Grafana");
    }

    #[test]
    fn continuous_schemes_run_from_low_to_high() {
        let stops = scheme("GrYlRd").unwrap();
        assert_eq!(gradient(stops, 0.0), "#73BF69");
        assert_eq!(gradient(stops, 0.5), "#FADE2A");
        assert_eq!(gradient(stops, 1.0), "#F2495C");
        assert_eq!(gradient(stops, 7.0), "#F2495C", "clamped");
        assert_eq!(gradient(stops, f64::NAN), "#73BF69");
        assert_eq!(gradient(scheme("YlRd").unwrap(), 0.5), "#F69443");
        assert!(scheme("nonsense").is_none());
    }

    #[test]
    fn grafana_named_colours_and_their_shades() {
        assert_eq!(named_colour("green"), "#73BF69");
        assert_eq!(named_colour("dark-red"), "#C4162A");
        assert_eq!(named_colour("semi-dark-blue"), "#3274D9");
        assert_eq!(named_colour("light-orange"), "#FFB357");
        assert_eq!(named_colour("super-light-purple"), "#DEB6F2");
        assert_eq!(named_colour("#abc\"><script>"), "#abcscript");
        assert_eq!(named_colour("text"), "inherit");
        assert_eq!(named_colour("dark-"), "inherit");
    }
}
