//! Panels repeated by a variable (`repeat`, `repeatDirection`, `maxPerRow`)
//! as Grafana repeats them: one copy per selected value, each seeing only its
//! value of the variable, laid side by side (wrapping at `maxPerRow`) or one
//! under the other; the panels below move down by the rows the copies take.
//! Then the grid's gravity: every panel floats up as far as the panels above
//! it let it, as Grafana's layout compacts the grid.

use super::model::Panel;
use super::vars::Resolved;
use std::borrow::Cow;

/// Most copies of one repeated panel (the rest are left out and said so).
pub(super) const MAX_REPEATS: usize = 100;

/// A panel as this page draws it: the dashboard's own, or a copy for one
/// value of its repeat variable (with the variables that copy sees).
pub(super) struct Placed<'a> {
    /// The panel, moved where its copy goes.
    pub(super) panel: Cow<'a, Panel>,
    /// The page's variables with the repeat variable set to this copy's value.
    pub(super) resolved: Option<Vec<Resolved>>,
}

/// The top-level panels in page order, repeats expanded; and a note for
/// each repeat cut at [`MAX_REPEATS`].
pub(super) fn expand<'a>(panels: &'a [Panel], resolved: &[Resolved]) -> (Vec<Placed<'a>>, Vec<String>) {
    let (mut out, mut notes) = (Vec::with_capacity(panels.len()), Vec::new());
    // Rows added by the repeats so far, and from which row on they push panels down.
    let mut pushes: Vec<(u32, u32)> = Vec::new();
    let mut i = 0;
    while i < panels.len() {
        let p = &panels[i];
        i += 1;
        let pushed = pushes.iter().filter(|(from, _)| p.grid.y >= *from).map(|(_, by)| by).sum::<u32>();
        let Some(var) = resolved.iter().find(|r| !p.repeat.is_empty() && r.name == p.repeat) else {
            out.push(Placed { panel: moved(p, pushed), resolved: None });
            continue;
        };
        let values = &var.values[..var.values.len().min(MAX_REPEATS)];
        if var.values.len() > MAX_REPEATS {
            notes.push(format!(
                "panel {:?} repeats for {} values of ${}: the first {MAX_REPEATS} are drawn",
                p.title,
                var.values.len(),
                var.name
            ));
        }
        if values.is_empty() {
            out.push(Placed { panel: moved(p, pushed), resolved: None });
            continue;
        }
        // Each copy sees only its value of the variable.
        let mine = |value: &String| -> Vec<Resolved> {
            resolved
                .iter()
                .map(|r| match r.name == var.name {
                    true => Resolved { values: vec![value.clone()], all_value: None, ..r.clone() },
                    false => r.clone(),
                })
                .collect()
        };
        if p.kind == "row" {
            // An open row's panels are those that follow it, up to the next row.
            let section_end = if p.collapsed {
                i
            } else {
                panels[i..].iter().position(|q| q.kind == "row").map_or(panels.len(), |k| i + k)
            };
            let section = &panels[i..section_end];
            i = section_end;
            let bottom = section.iter().map(|q| q.grid.y + q.grid.h).max().unwrap_or(0).max(p.grid.y + 1);
            let height = bottom - p.grid.y;
            for (k, value) in values.iter().enumerate() {
                let by = pushed + k as u32 * height;
                let mut row = moved(p, by).into_owned();
                // Copies after the first are rows of their own (opened on their own).
                row.id = copy_id(p.id, k);
                out.push(Placed { panel: Cow::Owned(row), resolved: Some(mine(value)) });
                for q in section {
                    let mut copy = moved(q, by).into_owned();
                    copy.id = copy_id(q.id, k);
                    out.push(Placed { panel: Cow::Owned(copy), resolved: Some(mine(value)) });
                }
            }
            if values.len() > 1 {
                pushes.push((bottom, (values.len() as u32 - 1) * height));
            }
            continue;
        }
        let (y0, h) = (p.grid.y + pushed, p.grid.h);
        // Grafana's widths: an equal share of the row, never narrower than 24 / maxPerRow.
        let w = (24 / values.len() as u32).max(24 / p.max_per_row.clamp(1, 24)).clamp(1, 24);
        let (mut x, mut y) = (0u32, y0);
        for (k, value) in values.iter().enumerate() {
            let mut copy = p.clone();
            if p.repeat_vertical {
                copy.grid.y = y0 + k as u32 * h;
            } else {
                if k > 0 && x + w > 24 {
                    x = 0;
                    y += h;
                }
                copy.grid.x = x;
                copy.grid.y = y;
                copy.grid.w = w;
                x += w;
            }
            out.push(Placed { panel: Cow::Owned(copy), resolved: Some(mine(value)) });
        }
        let bottom = out.last().map_or(y0 + h, |l| l.panel.grid.y + h);
        if bottom > y0 + h {
            pushes.push((p.grid.y + h, bottom - y0 - h));
        }
    }
    (out, notes)
}

/// The id of copy `k` of a panel in a repeated row: its own for the first,
/// others apart from every id a dashboard uses (ids above 2^40).
fn copy_id(id: u64, k: usize) -> u64 {
    if k == 0 {
        id
    } else {
        (1u64 << 40) + (id << 12) + k as u64
    }
}

/// Moves each panel up as far as it goes without overlapping one placed
/// before it (in order of row, then column), as Grafana's grid compacts.
pub(super) fn compact(placed: &mut [Placed]) {
    let mut order: Vec<usize> = (0..placed.len()).collect();
    order.sort_by_key(|&k| (placed[k].panel.grid.y, placed[k].panel.grid.x));
    let mut settled: Vec<(u32, u32, u32, u32)> = Vec::with_capacity(placed.len());
    for k in order {
        let g = &placed[k].panel.grid;
        let (x, w, h) = (g.x, g.w.min(24 - g.x.min(23)), g.h);
        let overlaps =
            |y: u32| settled.iter().any(|&(sx, sy, sw, sh)| x < sx + sw && sx < x + w && y < sy + sh && sy < y + h);
        let mut y = g.y;
        while y > 0 && !overlaps(y - 1) {
            y -= 1;
        }
        if y != g.y {
            placed[k].panel.to_mut().grid.y = y;
        }
        settled.push((x, y, w, h));
    }
}

/// `p`, moved down by `rows`.
fn moved(p: &Panel, rows: u32) -> Cow<'_, Panel> {
    if rows == 0 {
        return Cow::Borrowed(p);
    }
    let mut p = p.clone();
    p.grid.y = p.grid.y.saturating_add(rows);
    Cow::Owned(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dashboard::model::GridPos;

    fn panel(id: u64, grid: (u32, u32, u32, u32), repeat: &str) -> Panel {
        let (x, y, w, h) = grid;
        Panel { id, grid: GridPos { x, y, w, h }, repeat: repeat.into(), max_per_row: 4, ..Default::default() }
    }

    fn var(name: &str, n: usize) -> Resolved {
        Resolved { name: name.into(), values: (0..n).map(|i| format!("v{i}")).collect(), ..Default::default() }
    }

    #[test]
    fn repeats_lay_copies_across_wrapping_at_max_per_row_and_push_panels_down() {
        let panels = [panel(1, (0, 0, 8, 5), "host"), panel(2, (0, 5, 24, 4), "")];
        let (placed, notes) = expand(&panels, &[var("host", 6)]);
        assert!(notes.is_empty());
        let grids: Vec<(u32, u32, u32, u32)> =
            placed.iter().map(|p| (p.panel.grid.x, p.panel.grid.y, p.panel.grid.w, p.panel.grid.h)).collect();
        // Six copies, at most four a row (w = max(24/6, 24/4) = 6); the next panel below them.
        assert_eq!(
            grids,
            [(0, 0, 6, 5), (6, 0, 6, 5), (12, 0, 6, 5), (18, 0, 6, 5), (0, 5, 6, 5), (6, 5, 6, 5), (0, 10, 24, 4)]
        );
        let values: Vec<&str> =
            placed[..6].iter().map(|p| p.resolved.as_ref().unwrap()[0].values[0].as_str()).collect();
        assert_eq!(values, ["v0", "v1", "v2", "v3", "v4", "v5"], "each copy sees its own value");
        assert!(placed[6].resolved.is_none());
    }

    #[test]
    fn panels_float_up_into_the_room_above_them() {
        let panels = [panel(1, (0, 0, 12, 4), ""), panel(2, (12, 6, 12, 3), ""), panel(3, (0, 10, 24, 2), "")];
        let (mut placed, _) = expand(&panels, &[]);
        compact(&mut placed);
        let ys: Vec<u32> = placed.iter().map(|p| p.panel.grid.y).collect();
        // The second has nothing above it; the third stops under the first (its bottom is row 4).
        assert_eq!(ys, [0, 0, 4]);
    }

    #[test]
    fn a_repeated_row_repeats_its_panels_for_each_value_and_pushes_the_rest_down() {
        let mut row = panel(1, (0, 0, 24, 1), "host");
        row.kind = "row".into();
        let mut next = panel(4, (0, 6, 24, 1), "");
        next.kind = "row".into();
        let panels =
            [row, panel(2, (0, 1, 12, 5), ""), panel(3, (12, 1, 12, 5), ""), next, panel(5, (0, 7, 24, 3), "")];
        let (placed, _) = expand(&panels, &[var("host", 3)]);
        let ys: Vec<(u64, u32)> = placed.iter().map(|p| (p.panel.id, p.panel.grid.y)).collect();
        // Three sections of six rows (the row and its panels), then the rest twelve rows down.
        assert_eq!(ys.len(), 3 * 3 + 2);
        assert_eq!(ys.iter().map(|y| y.1).collect::<Vec<_>>(), [0, 1, 1, 6, 7, 7, 12, 13, 13, 18, 19]);
        assert_eq!(ys[0].0, 1, "the first copy keeps its ids");
        assert!(ys[3].0 > 1 << 40 && ys[3].0 != ys[6].0, "the others have their own");
        let seen: Vec<&str> =
            [0, 1, 3, 7].iter().map(|&k| placed[k].resolved.as_ref().unwrap()[0].values[0].as_str()).collect();
        assert_eq!(seen, ["v0", "v0", "v1", "v2"], "each section sees its value");
        assert!(placed[9].resolved.is_none() && placed[10].resolved.is_none());
    }

    #[test]
    fn vertical_repeats_stack_and_huge_repeats_are_cut_with_a_note() {
        let mut p = panel(1, (4, 2, 10, 3), "x");
        p.repeat_vertical = true;
        let (placed, _) = expand(std::slice::from_ref(&p), &[var("x", 3)]);
        let grids: Vec<(u32, u32, u32)> =
            placed.iter().map(|p| (p.panel.grid.x, p.panel.grid.y, p.panel.grid.w)).collect();
        assert_eq!(grids, [(4, 2, 10), (4, 5, 10), (4, 8, 10)]);
        let huge = [panel(1, (0, 0, 6, 3), "x")];
        let (placed, notes) = expand(&huge, &[var("x", 10_000)]);
        assert_eq!(placed.len(), MAX_REPEATS);
        assert!(notes[0].contains("10000 values"), "{notes:?}");
        let unknown = [panel(1, (0, 0, 6, 3), "missing")];
        let (placed, _) = expand(&unknown, &[var("x", 3)]);
        assert_eq!(placed.len(), 1, "a repeat by an unknown variable draws the panel once");
    }
}
