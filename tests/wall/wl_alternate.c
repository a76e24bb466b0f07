/* alternate between two functions every ~0.5 ms across 4 threads; measure truth by CPU clock */
#include <pthread.h>
#include <stdio.h>
#include <time.h>
static double cpu(void){struct timespec t;clock_gettime(CLOCK_THREAD_CPUTIME_ID,&t);return t.tv_sec+t.tv_nsec/1e9;}
static volatile double sink;
__attribute__((noinline)) static double fa(double us){double t0=cpu(),x=1;while(cpu()-t0<us/1e6)for(int i=0;i<100;i++)x=x*1.0000001+.5;sink=x;return cpu()-t0;}
__attribute__((noinline)) static double fb(double us){double t0=cpu(),x=2;while(cpu()-t0<us/1e6)for(int i=0;i<100;i++)x=x*1.0000002+.25;sink=x;return cpu()-t0;}
static double ta[4],tb[4];
static void *run(void *p){int i=(int)(long)p;double e=cpu();while(cpu()-e<1.5){ta[i]+=fa(230);tb[i]+=fb(610);}return 0;}
int main(){pthread_t t[4];for(long i=0;i<4;i++)pthread_create(&t[i],0,run,(void*)i);double a=0,b=0;for(int i=0;i<4;i++){pthread_join(t[i],0);a+=ta[i];b+=tb[i];}printf("fa %.4f fb %.4f share_fa %.2f\n",a,b,100*a/(a+b));}
