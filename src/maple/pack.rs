//! [`Pack`] for the tree: a node's live slots only (`len` of them; the cleared ones past
//! `len` are implied, and checked to be cleared when packed).

use super::node::{Internal, Leaf, Node, ARANGE_SLOTS, LEAF_SLOTS};
use super::MapleTree;
use crate::pack::{Pack, Reader};

impl<T: Pack + Copy> Pack for Node<T> {
    fn pack(&self, out: &mut Vec<u8>) {
        match self {
            Node::Leaf(l) => {
                let n = l.len();
                assert!(
                    l.pivots[n..].iter().all(|&p| p == 0)
                        && l.slots[n..].iter().all(Option::is_none),
                    "maple leaf with live data past len"
                );
                out.push(0);
                out.push(l.len);
                for i in 0..n {
                    l.pivots[i].pack(out);
                    l.slots[i].pack(out);
                }
            }
            Node::Internal(x) => {
                let n = x.len as usize;
                assert!(
                    x.pivots[n..].iter().all(|&p| p == 0) && x.gaps[n..].iter().all(|&g| g == 0),
                    "maple node with live data past len"
                );
                out.push(1);
                out.push(x.len);
                for i in 0..n {
                    x.pivots[i].pack(out);
                    x.gaps[i].pack(out);
                }
                x.children.pack(out);
            }
        }
    }
    fn unpack(r: &mut Reader<'_>) -> Self {
        match r.byte() {
            0 => {
                let len = r.byte();
                let mut l = Leaf {
                    len,
                    pivots: [0; LEAF_SLOTS],
                    slots: [None; LEAF_SLOTS],
                };
                for i in 0..len as usize {
                    l.pivots[i] = u64::unpack(r);
                    l.slots[i] = Option::unpack(r);
                }
                Node::Leaf(Box::new(l))
            }
            1 => {
                let len = r.byte();
                let mut pivots = [0; ARANGE_SLOTS];
                let mut gaps = [0; ARANGE_SLOTS];
                for i in 0..len as usize {
                    pivots[i] = u64::unpack(r);
                    gaps[i] = u64::unpack(r);
                }
                Node::Internal(Box::new(Internal {
                    len,
                    pivots,
                    gaps,
                    children: Vec::unpack(r),
                }))
            }
            b => panic!("packed maple node tag {b}"),
        }
    }
}

impl<T: Pack + Copy> Pack for MapleTree<T> {
    fn pack(&self, out: &mut Vec<u8>) {
        let MapleTree { root, height } = self;
        root.pack(out);
        height.pack(out);
    }
    fn unpack(r: &mut Reader<'_>) -> Self {
        let root = Node::unpack(r);
        MapleTree {
            root,
            height: r.byte(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pack::unpack_all;

    #[test]
    fn a_tree_of_several_levels_round_trips() {
        let mut t: MapleTree<u8> = MapleTree::new();
        for i in 0..200u64 {
            t.mtree_store_range(i * 0x2000, i * 0x2000 + 0xfff, Some(i as u8))
                .unwrap();
        }
        for i in (0..200u64).step_by(3) {
            t.mtree_store_range(i * 0x2000, i * 0x2000 + 0xfff, None)
                .unwrap();
        }
        assert!(t.height > 1, "height {}", t.height);
        let mut b = Vec::new();
        t.pack(&mut b);
        assert_eq!(unpack_all::<MapleTree<u8>>(&b), t);
    }
}
