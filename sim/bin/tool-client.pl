# coldstart simulated cloud -- the thin client of one fake tool call in a drill (issue #14).
# The fake tools' shim (sim/bin/sim-tool, linked as juju, openstack, virsh) execs `perl tool-client.pl <tool> args...` when
# COLDSTART_SIM_TOOLS names the drill's tool server (drill/tool-server.ts): the call stays a real
# process with its real argv, stdin and exit code, but the tool runs in the drill process.
# Why perl: it starts in ~3 ms of CPU, node in ~40 ms, and a drill makes hundreds of calls.
# Framing (drill/tool-wire.ts): u32 big-endian count, then per field u32 length + bytes.
#   request:  TAG, tool, pid, cwd, stdin, argc, argv..., "NAME=value" per environment variable
#   answer:   TAG, exit code, stdout, stderr
# Only perl's core, no module at all on Linux: perl-base is Essential in Debian (`dpkg -s
# perl-base`: "Essential: yes"), and even IO::Socket::UNIX (perl-base, `dpkg -S
# IO/Socket/UNIX.pm`) costs ~20 ms of CPU to load; Socket (perl-base too) is the fallback below.
# Not executable on purpose: sim/bin is on PATH, this is no command.
use strict;

my $TAG = "coldstart-tool/1";
my ($tool, @argv) = @ARGV;
my $path = $ENV{COLDSTART_SIM_TOOLS};

# one line and exit 70, as entry.ts answers an error of its own
sub gone {
  print STDERR "coldstart sim: $_[0]\n";
  exit 70;
}

# all of stdin, none from a terminal (sim/tools/entry.ts readStdin)
my $stdin = "";
unless (-t STDIN) {
  binmode STDIN;
  local $/;
  my $in = <STDIN>;
  $stdin = $in if defined $in;
}
# the physical working directory, as node's process.cwd() (getcwd(3)) gives it
my $cwd = readlink("/proc/self/cwd");
unless (defined $cwd) {
  require Cwd;
  $cwd = Cwd::getcwd() // "";
}

my @fields = ($TAG, $tool, $$, $cwd, $stdin, scalar(@argv), @argv, map { "$_=$ENV{$_}" } keys %ENV);
my $request = pack("N", scalar @fields) . pack("(N/a*)*", @fields);

# Linux: AF_UNIX = 1 (<bits/socket.h> PF_LOCAL), SOCK_STREAM = 1 (<bits/socket_type.h>; MIPS
# differs, and fails here), struct sockaddr_un = u16 family + NUL-terminated path (unix(7)).
my $sock;
unless ($^O eq "linux" && socket($sock, 1, 1, 0) && connect($sock, pack("S Z*", 1, $path))) {
  require Socket;
  socket($sock, Socket::AF_UNIX(), Socket::SOCK_STREAM(), 0) or gone("cannot open a socket: $!");
  connect($sock, Socket::pack_sockaddr_un($path))
    or gone("the drill's tool server ($path) is gone: $! (the drill ended, or this is not its call)");
}
binmode $sock;

sub put {
  my ($fh, $data) = @_;
  my $at = 0;
  while ($at < length $data) {
    my $n = syswrite($fh, $data, length($data) - $at, $at);
    return 0 unless defined $n;
    $at += $n;
  }
  return 1;
}

put($sock, $request) or gone("the drill's tool server ($path) closed the connection: $!");
# the answer, whole: the server ends the connection once it is sent
my $answer = "";
while (1) {
  my $n = sysread($sock, $answer, 1 << 20, length $answer);
  gone("the drill's tool server ($path) dropped the connection: $!") unless defined $n;
  last if $n == 0;
}

my @got;
my $at = 4;
my $count = length($answer) >= 4 ? unpack("N", $answer) : 0;
for (1 .. $count) {
  last if length($answer) < $at + 4;
  my $len = unpack("N", substr($answer, $at, 4));
  last if length($answer) < $at + 4 + $len;
  push @got, substr($answer, $at + 4, $len);
  $at += 4 + $len;
}
gone("the drill's tool server ($path) dropped the connection before answering $tool")
  unless @got == 4 && $got[0] eq $TAG;

binmode STDOUT;
binmode STDERR;
put(\*STDOUT, $got[2]);
put(\*STDERR, $got[3]);
exit($got[1] + 0);
