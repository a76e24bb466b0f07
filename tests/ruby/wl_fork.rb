# A parent and a forked child, each with its own method; or, with "exit", threads still
# spinning when the interpreter shuts down; or, with "spill", spinning then killed by
# SIGKILL (only the raw spill is left). Usage: ruby wl_fork.rb fork|exit|spill SECONDS
def cpu = Process.clock_gettime(Process::CLOCK_THREAD_CPUTIME_ID)

def spin(sec)
  t = cpu
  x = 0
  x += 1 while cpu - t < sec
  x
end

def in_parent(sec) = spin(sec)
def in_child(sec) = spin(sec)
def forever = loop { spin(0.01) }

sec = ARGV[1].to_f
if ARGV[0] == 'fork'
  pid = fork { in_child(sec) }
  in_parent(sec)
  Process.wait(pid)
  puts "child=#{$?.exitstatus}"
elsif ARGV[0] == 'spill'
  in_parent(sec)
  Process.kill(:KILL, Process.pid)
else
  4.times { Thread.new { forever } }
  spin(sec)
  puts 'exiting'
end
