# Prints the candidates zsh's completion system offers for a command line, one per line:
#   zsh -f capture-zsh-completion.zsh SCRIPT 'tether sh'
# Completion widgets run only inside the line editor, so this drives an interactive zsh in a
# pseudo-terminal (zpty): it loads compinit and SCRIPT, types the line and a Tab, and reads back
# what compadd was given. The idea is that of zsh-capture-completion (Valodim, MIT).
zmodload zsh/zpty || { print -u2 'zsh/zpty is missing'; exit 3 }
zpty capture zsh -f -i
zpty -w capture "PROMPT='' RPROMPT='' PS2=''"
zpty -w capture 'autoload -Uz compinit && compinit -u -D'
zpty -w capture "source ${(q)1}"
# Each match goes out between the bytes 1 and 2; after the widget, byte 3 and the shell exits.
# Those bytes are written as $'\1' and so on: the echo of what is typed never holds them.
zpty -w capture 'compadd() {
  if (( ${@[(I)-[OAD]]} )); then builtin compadd "$@"; return; fi
  local -a __matches
  builtin compadd -O __matches "$@"
  (( $#__matches )) && print -rn -- $'"'"'\1'"'"'${^__matches}$'"'"'\2'"'"'
  builtin compadd "$@"
}'
zpty -w capture 'comppostfuncs=(__capture_done); __capture_done() { print -rn -- $'"'"'\3'"'"'; exit }'
zpty -w capture "$2"$'\t'
local out
zpty -r -m capture out "*"$'\3'"*" || { print -u2 "no completion ran for: $2"; exit 4 }
zpty -d capture
local -a pieces=(${(ps:\2:)${out%%$'\3'*}})
local piece
for piece in $pieces; do
  [[ $piece == *$'\1'* ]] && print -r -- ${piece##*$'\1'}
done
exit 0
