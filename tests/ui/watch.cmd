# A write watchpoint on a guest variable.
break guest:kmain
continue
watch guest:next_free
continue
continue
info break
