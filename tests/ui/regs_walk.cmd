# Registers at the entry, then a guest address walked through the guest's
# page tables (PV: the guest's tables are the real ones, validated).
regs
break guest:kmain
continue
regs
walk $rip
walk 0x40000000
x/3i $rip
x/2gx $rsp
