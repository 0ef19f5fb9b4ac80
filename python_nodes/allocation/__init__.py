"""Multi-warehouse allocation: the exact cost model of DESIGN.md, its optimum and a planner's alternatives."""
