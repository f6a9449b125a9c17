//! Exact shortest path by breadth-first search, with the number of distinct shortest paths (the official
//! labels hold one path, so evaluation needs to know whether others exist).

use super::{Maze, MazeError};

/// A shortest path from S to G and how many shortest paths there are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathReport {
    /// Cell indices from S to G inclusive.
    pub path: Vec<usize>,
    /// Number of moves (`path.len() - 1`).
    pub length: usize,
    /// Distinct shortest paths, saturating at `u64::MAX`.
    pub shortest_paths: u64,
}

impl PathReport {
    pub fn is_unique(&self) -> bool {
        self.shortest_paths == 1
    }
}

/// BFS distances (moves) from `from` over passable tiles; `u32::MAX` where unreachable.
pub fn distances(maze: &Maze, from: usize) -> Vec<u32> {
    let n = maze.size();
    let tiles = maze.tiles();
    let mut dist = vec![u32::MAX; n * n];
    let mut queue = Vec::with_capacity(n * n);
    dist[from] = 0;
    queue.push(from);
    let mut head = 0;
    while head < queue.len() {
        let v = queue[head];
        head += 1;
        for u in neighbours(n, v) {
            if tiles[u].passable() && dist[u] == u32::MAX {
                dist[u] = dist[v] + 1;
                queue.push(u);
            }
        }
    }
    dist
}

/// Up, left, right, down neighbours inside the grid (this order fixes which path is reported).
pub(crate) fn neighbours(n: usize, v: usize) -> impl Iterator<Item = usize> {
    let (r, c) = (v / n, v % n);
    let up = (r > 0).then(|| v - n);
    let left = (c > 0).then(|| v - 1);
    let right = (c + 1 < n).then(|| v + 1);
    let down = (r + 1 < n).then(|| v + n);
    [up, left, right, down].into_iter().flatten()
}

/// The shortest path from S to G, or `Unreachable`.
///
/// One BFS pass also counts paths: when v is expanded every node one step closer has been expanded, so
/// ways(u) += ways(v) for each neighbour u one step further is complete by the time u is expanded.
pub fn shortest_path(maze: &Maze) -> Result<PathReport, MazeError> {
    let n = maze.size();
    let tiles = maze.tiles();
    let (start, goal) = (maze.start(), maze.goal());
    let mut dist = vec![u32::MAX; n * n];
    let mut ways = vec![0u64; n * n];
    let mut queue = Vec::with_capacity(n * n);
    dist[start] = 0;
    ways[start] = 1;
    queue.push(start);
    let mut head = 0;
    while head < queue.len() {
        let v = queue[head];
        head += 1;
        if v == goal {
            break;
        }
        for u in neighbours(n, v) {
            if !tiles[u].passable() {
                continue;
            }
            if dist[u] == u32::MAX {
                dist[u] = dist[v] + 1;
                queue.push(u);
            }
            if dist[u] == dist[v] + 1 {
                ways[u] = ways[u].saturating_add(ways[v]);
            }
        }
    }
    if dist[goal] == u32::MAX {
        return Err(MazeError::Unreachable);
    }
    // Walk back from G, always to the first neighbour one step closer.
    let mut path = vec![goal];
    let mut v = goal;
    while dist[v] > 0 {
        v = neighbours(n, v).find(|&u| dist[u] != u32::MAX && dist[u] + 1 == dist[v]).expect("BFS predecessor");
        path.push(v);
    }
    path.reverse();
    Ok(PathReport { length: path.len() - 1, path, shortest_paths: ways[goal] })
}
