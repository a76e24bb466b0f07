# A 100-deep recursion over a hot bottom method; threads each with their own methods.
# Usage: ruby wl_deep.rb SECONDS
def cpu = Process.clock_gettime(Process::CLOCK_THREAD_CPUTIME_ID)

def bottom
  s = 0
  i = 0
  while i < 20000
    s += i
    i += 1
  end
  s
end

def rec(n) = n.zero? ? bottom : rec(n - 1)

def thread_a(sec)
  t = cpu
  rec(100) while cpu - t < sec
end

def thread_b_spin
  x = 0
  50000.times { x += 1 }
  x
end

def thread_b(sec)
  t = cpu
  thread_b_spin while cpu - t < sec
end

sec = ARGV[0].to_f
[Thread.new { thread_a(sec) }, Thread.new { thread_b(sec) }].each(&:join)
puts 'done'
