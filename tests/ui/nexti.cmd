# nexti over INT 0x82 (a hypercall) comes back to the guest after it; over
# the iret hypercall, to wherever the guest returns.  nexti N prints only
# where it ends.
break guest:pv_console_write
continue
nexti 5
info world
delete 1
break guest:guest_iret_pv+6
continue
nexti
info world
