"""The roof: the 信息直通车 dashboard, the home page's figures and the desks' workspace. With
``demo`` it is the only package that may import every app (see docs/architecture.md)."""
