info world
stepi 2
frobnicate
info world
