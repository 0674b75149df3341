//! Install order: groups for successive `dpkg --install` runs. A package's
//! Pre-Depends are in an earlier group than the package; its Depends are in
//! the same or an earlier group; packages that depend on each other in a cycle
//! share a group. The group of a package is the longest chain of Pre-Depends
//! below it, so there are as few groups as dpkg allows.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;

use super::ResolveError;

/// Numbers each node's group from 0. `edges` are (dependent, dependency,
/// is_pre_depends) between nodes; `nodes` should be sorted, so that a
/// reported cycle is the same whatever the order of `edges`. A cycle through
/// a Pre-Depends is an error naming its packages.
pub fn install_groups<N: Copy + Eq + Hash, S: ToString>(
    nodes: &[N],
    edges: &[(N, N, bool)],
    name: impl Fn(N) -> S,
) -> Result<HashMap<N, u32>, ResolveError> {
    let pos: HashMap<N, usize> = nodes.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let mut adj: Vec<Vec<(usize, bool)>> = vec![Vec::new(); nodes.len()];
    for (from, to, pre) in edges {
        let (Some(&a), Some(&b)) = (pos.get(from), pos.get(to)) else { continue };
        if a != b {
            adj[a].push((b, *pre));
        }
    }
    for list in &mut adj {
        list.sort_unstable();
        list.dedup();
    }
    let comp = strongly_connected(&adj);
    // Tarjan numbers components dependencies-first, so one pass in that
    // order sees every dependency's group before its dependents.
    let count = comp.iter().max().map_or(0, |m| m + 1);
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); count];
    for (v, c) in comp.iter().enumerate() {
        members[*c].push(v);
    }
    let mut group = vec![0u32; count];
    for c in 0..count {
        let mut g = 0;
        for &v in &members[c] {
            for &(w, pre) in &adj[v] {
                if comp[w] == c {
                    if pre {
                        let cycle = cycle_through(&adj, &comp, v, w);
                        return Err(ResolveError::PreDependsCycle {
                            packages: cycle.into_iter().map(|i| name(nodes[i]).to_string()).collect(),
                        });
                    }
                } else {
                    g = g.max(group[comp[w]] + u32::from(pre));
                }
            }
        }
        group[c] = g;
    }
    Ok(nodes.iter().enumerate().map(|(i, n)| (*n, group[comp[i]])).collect())
}

/// Tarjan's algorithm without recursion; returns each vertex's component,
/// numbered so that a component's successors have smaller numbers.
fn strongly_connected(adj: &[Vec<(usize, bool)>]) -> Vec<usize> {
    const NONE: usize = usize::MAX;
    let n = adj.len();
    let (mut index, mut low, mut comp) = (vec![NONE; n], vec![0; n], vec![NONE; n]);
    let (mut stack, mut on_stack) = (Vec::new(), vec![false; n]);
    let (mut next_index, mut next_comp) = (0, 0);
    for root in 0..n {
        if index[root] != NONE {
            continue;
        }
        let mut call: Vec<(usize, usize)> = vec![(root, 0)];
        index[root] = next_index;
        low[root] = next_index;
        next_index += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (v, ref mut edge)) = call.last_mut() {
            if let Some(&(w, _)) = adj[v].get(*edge) {
                *edge += 1;
                if index[w] == NONE {
                    index[w] = next_index;
                    low[w] = next_index;
                    next_index += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    call.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            call.pop();
            if let Some(&(parent, _)) = call.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                loop {
                    let w = stack.pop().expect("v is on the stack");
                    on_stack[w] = false;
                    comp[w] = next_comp;
                    if w == v {
                        break;
                    }
                }
                next_comp += 1;
            }
        }
    }
    comp
}

/// A shortest path `from -> to -> ... -> from` inside one component.
fn cycle_through(adj: &[Vec<(usize, bool)>], comp: &[usize], from: usize, to: usize) -> Vec<usize> {
    let mut prev = HashMap::new();
    let mut queue = VecDeque::from([to]);
    prev.insert(to, to);
    while let Some(v) = queue.pop_front() {
        if v == from {
            break;
        }
        for &(w, _) in &adj[v] {
            if comp[w] == comp[from] && !prev.contains_key(&w) {
                prev.insert(w, v);
                queue.push_back(w);
            }
        }
    }
    let mut path = vec![from];
    let mut v = from;
    while v != to {
        v = prev[&v];
        path.push(v);
    }
    path.push(from);
    path.reverse();
    // path is now from -> to -> ... -> from, read in dependency direction.
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups(nodes: &[&'static str], edges: &[(&'static str, &'static str, bool)]) -> Result<Vec<(String, u32)>, String> {
        let g = install_groups(nodes, edges, |n| n).map_err(|e| e.to_string())?;
        let mut out: Vec<_> = nodes.iter().map(|n| (n.to_string(), g[n])).collect();
        out.sort();
        Ok(out)
    }

    #[test]
    fn pre_depends_go_first_and_depends_cycles_share_a_group() {
        let nodes = ["a", "b", "c", "d", "e"];
        let edges = [("a", "b", true), ("b", "c", false), ("c", "b", false), ("c", "d", true), ("e", "a", false)];
        let got = groups(&nodes, &edges).unwrap();
        let want = [("a", 2), ("b", 1), ("c", 1), ("d", 0), ("e", 2)];
        assert_eq!(got, want.map(|(n, g)| (n.to_string(), g)));
        let mut reversed = edges;
        reversed.reverse();
        assert_eq!(groups(&nodes, &reversed).unwrap(), got);
    }

    #[test]
    fn pre_depends_cycle_is_an_error() {
        let err = groups(&["a", "b", "c"], &[("a", "b", true), ("b", "c", false), ("c", "a", false)]).unwrap_err();
        assert_eq!(err, "Pre-Depends cycle: a -> b -> c -> a");
    }
}
